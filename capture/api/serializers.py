"""The capture API's output shapes."""

from rest_framework import serializers


class LogOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    team = serializers.IntegerField(source="team_id")
    model = serializers.CharField()
    messages = serializers.JSONField()
    tools = serializers.JSONField()
    response = serializers.JSONField()
    error = serializers.JSONField()
    tags = serializers.JSONField()
    metadata = serializers.JSONField()
    latency_ms = serializers.IntegerField()
    usage = serializers.SerializerMethodField()
    trace_id = serializers.CharField()
    timestamp = serializers.DateTimeField(source="client_timestamp")
    created_at = serializers.DateTimeField()
    source = serializers.CharField()
    content_hash = serializers.CharField()
    feedback = serializers.SerializerMethodField()

    def get_usage(self, log) -> dict:
        return {
            "prompt_tokens": log.prompt_tokens,
            "completion_tokens": log.completion_tokens,
            "total_tokens": log.total_tokens,
        }

    def get_feedback(self, log) -> dict | None:
        if log.feedback_score is None and not log.feedback_comment:
            return None
        return {
            "score": log.feedback_score,
            "comment": log.feedback_comment,
            "by": log.feedback_by.username if log.feedback_by_id else None,
            "at": log.feedback_at,
        }


class LogFeedbackInputSerializer(serializers.Serializer):
    score = serializers.FloatField(min_value=-1, max_value=1, allow_null=True)
    comment = serializers.CharField(max_length=5000, allow_blank=True, required=False, default="")
