from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from finetunedb.parsers import StrictJSONField

from ..models import ExampleStatus, Split


class DatasetOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    team = serializers.IntegerField(source="team_id")
    name = serializers.CharField()
    description = serializers.CharField()
    settings = serializers.JSONField(source="effective_settings")
    example_count = serializers.IntegerField(required=False)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class ExampleCheckSerializer(serializers.Serializer):
    rule_id = serializers.CharField()
    severity = serializers.CharField()
    message = serializers.CharField()
    path = serializers.CharField(allow_null=True)


class ExampleOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    dataset = serializers.IntegerField(source="dataset_id")
    messages = serializers.JSONField(source="current_revision.messages")
    tools = serializers.JSONField(source="current_revision.tools", allow_null=True)
    metadata = serializers.JSONField(source="current_revision.metadata")
    content_hash = serializers.CharField()
    status = serializers.ChoiceField(choices=ExampleStatus.choices)
    split = serializers.ChoiceField(choices=Split.choices)
    tags = serializers.SerializerMethodField()
    checks = serializers.SerializerMethodField(
        help_text="This example's current check findings (rule, severity, message, JSON path)."
    )
    rating = serializers.IntegerField(allow_null=True)
    notes = serializers.CharField()
    source_format = serializers.CharField()
    source_log = serializers.IntegerField(
        allow_null=True, help_text="The captured log this example was made from, if any."
    )
    revision = serializers.IntegerField(
        help_text="Optimistic-locking counter; the ETag. Send it in If-Match."
    )
    content_revision = serializers.IntegerField(source="current_revision.number")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    def get_tags(self, obj) -> list[str]:
        return sorted(tag.name for tag in obj.tags.all())

    @extend_schema_field(ExampleCheckSerializer(many=True))
    def get_checks(self, obj) -> list[dict]:
        return [
            {
                "rule_id": c.rule_id,
                "severity": c.severity,
                "message": c.message,
                "path": c.path or None,
            }
            for c in obj.check_results.all()
        ]


class ExampleWriteSerializer(serializers.Serializer):
    """Shape-only parsing; the canonical schema and the rules live in the service."""

    messages = StrictJSONField()
    tools = StrictJSONField(required=False, allow_null=True)
    metadata = StrictJSONField(required=False)
    status = serializers.ChoiceField(choices=ExampleStatus.choices, required=False)
    split = serializers.ChoiceField(choices=Split.choices, required=False)
    tags = serializers.ListField(
        child=serializers.CharField(max_length=64), required=False, max_length=200
    )
    rating = serializers.IntegerField(min_value=1, max_value=5, required=False, allow_null=True)
    notes = serializers.CharField(required=False, allow_blank=True, max_length=100_000)


class ExamplePatchSerializer(ExampleWriteSerializer):
    messages = StrictJSONField(required=False)
