"""Input and output shapes of the evaluation API (DESIGN §8)."""

from __future__ import annotations

from django.utils import timezone
from rest_framework import serializers

from finetunedb.parsers import StrictJSONField

from ..models import EvalSplit


class EvalTeamInputSerializer(serializers.Serializer):
    team = serializers.IntegerField(min_value=1, max_value=2**63 - 1)


class EvalSuiteInputSerializer(serializers.Serializer):
    team = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(
        required=False, allow_blank=True, max_length=20_000, default=""
    )
    version = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    split = serializers.ChoiceField(choices=EvalSplit.values, default=EvalSplit.TEST)
    evaluators = StrictJSONField(help_text="[{type, params}]; see docs/evaluation.md.")


class EvalSuiteOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    team = serializers.IntegerField(source="team_id")
    name = serializers.CharField()
    description = serializers.CharField()
    version = serializers.IntegerField(source="version_id")
    dataset = serializers.IntegerField(source="version.dataset_id")
    version_hash = serializers.CharField()
    split = serializers.CharField()
    evaluators = serializers.JSONField()
    item_count = serializers.IntegerField()
    created_by = serializers.CharField(source="created_by.username", allow_null=True)
    created_at = serializers.DateTimeField()


class EvalRunInputSerializer(serializers.Serializer):
    model = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=2**63 - 1
    )
    base_model = serializers.CharField(
        required=False, allow_blank=True, max_length=500, help_text="Omit for the bundled default."
    )
    # Types and bounds are checked by the service (its messages name the limit).
    max_new_tokens = StrictJSONField(required=False, default=128)
    temperature = StrictJSONField(required=False, default=0.0)
    seed = StrictJSONField(required=False, default=0)
    repetition_penalty = StrictJSONField(
        required=False, default=1.0, help_text="1.0 (off) to 2.0; in-process generation only."
    )
    no_repeat_ngram_size = StrictJSONField(
        required=False, default=0, help_text="0 (off) to 20; in-process generation only."
    )


def eta_seconds(run) -> float | None:
    """Seconds left, from the pace so far (None before the first batch is stored)."""
    if run.is_finished or not run.started_at or not run.processed or not run.total:
        return None
    elapsed = (timezone.now() - run.started_at).total_seconds()
    return round(elapsed / run.processed * max(run.total - run.processed, 0), 1)


class EvalRunOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    suite = serializers.IntegerField(source="suite_id")
    model = serializers.IntegerField(source="model_id", allow_null=True)
    base_model = serializers.CharField()
    model_label = serializers.CharField()
    trained_on_version = serializers.SerializerMethodField()
    max_new_tokens = serializers.IntegerField()
    temperature = serializers.FloatField()
    seed = serializers.IntegerField()
    repetition_penalty = serializers.FloatField()
    no_repeat_ngram_size = serializers.IntegerField()
    decoding = serializers.CharField()
    status = serializers.CharField()
    processed = serializers.IntegerField()
    total = serializers.IntegerField()
    progress = serializers.FloatField()
    eta_seconds = serializers.SerializerMethodField()
    metrics = serializers.SerializerMethodField()
    failure_reason = serializers.CharField()
    cancel_requested = serializers.BooleanField()
    created_by = serializers.CharField(source="created_by.username", allow_null=True)
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)

    def get_trained_on_version(self, run) -> int | None:
        return run.model.run.version_id if run.model_id else None

    def get_eta_seconds(self, run) -> float | None:
        return eta_seconds(run)

    def get_metrics(self, run) -> dict:
        """Per evaluator ``{mean, ci_low, ci_high, n, method, pass_rate, …, errors}``."""
        return (run.metrics or {}).get("evaluators", {})


class EvalResultOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    position = serializers.IntegerField()
    example = serializers.IntegerField(source="entry.example_id")
    revision = serializers.IntegerField(source="entry.revision_id")
    split = serializers.CharField(source="entry.split")
    reference = serializers.CharField(allow_null=True)
    output = serializers.CharField()
    scores = serializers.JSONField()
