"""Output shapes of the annotation API, shared by its views."""

from __future__ import annotations

from rest_framework import serializers


class AnnotationOutputSerializer(serializers.Serializer):
    annotator = serializers.IntegerField(source="annotator_id")
    username = serializers.CharField(source="annotator.username")
    verdict = serializers.CharField()
    rating = serializers.FloatField(allow_null=True)
    tags = serializers.ListField(child=serializers.CharField())
    note = serializers.CharField(source="notes")
    answer = serializers.CharField()
    guidelines_version = serializers.IntegerField(allow_null=True)
    seconds_spent = serializers.FloatField(allow_null=True)
    submitted_at = serializers.DateTimeField(allow_null=True)


class AssignmentOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    dataset = serializers.IntegerField(source="dataset_id")
    name = serializers.CharField()
    overlap = serializers.IntegerField()
    guidelines = serializers.CharField()
    guidelines_version = serializers.IntegerField()
    due_at = serializers.DateTimeField(allow_null=True)
    seed = serializers.CharField()
    created_at = serializers.DateTimeField()
    progress = serializers.SerializerMethodField()

    def get_progress(self, assignment) -> dict:
        progress = self.context.get("progress", {}).get(assignment.pk)
        if progress is not None:
            return progress
        return {
            "total": getattr(assignment, "item_count", None),
            "submitted": getattr(assignment, "submitted_count", None),
        }


def queue_item_data(item, *, progress, mine=None, others=()) -> dict:
    """A queue item as the API shows it: the example's content, the guidelines, and labels the
    blind rule lets the caller see (``others`` is empty until they submitted)."""
    assignment = item.assignment
    return {
        "id": item.pk,
        "status": item.status,
        "lease_expires_at": item.leased_until,
        "assignment": {
            "id": assignment.pk,
            "name": assignment.name,
            "guidelines": assignment.guidelines,
            "guidelines_version": assignment.guidelines_version,
            "due_at": assignment.due_at,
        },
        "example": {
            "id": item.example_id,
            "messages": item.example.current_revision.messages,
            "tools": item.example.current_revision.tools,
        },
        "mine": AnnotationOutputSerializer(mine).data if mine is not None else None,
        "others": AnnotationOutputSerializer(list(others), many=True).data,
        "progress": progress,
    }
