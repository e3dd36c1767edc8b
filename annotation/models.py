"""Team annotation (issue 21): assignments of examples to annotators, their items and labels."""

from django.conf import settings
from django.db import models

from datasets_app.models import Dataset, Example


class Assignment(models.Model):
    """A batch of a dataset's examples handed to annotators, each example to ``overlap`` of them."""

    team_path = "dataset__team"

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="assignments")
    name = models.CharField(max_length=200, blank=True)
    guidelines = models.TextField(blank=True, help_text="Markdown shown next to every item.")
    guidelines_version = models.PositiveIntegerField(
        default=1,
        help_text="Bumped on every guidelines edit; each annotation records the one it saw.",
    )
    overlap = models.PositiveSmallIntegerField(help_text="Annotators per example.")
    seed = models.CharField(max_length=64, help_text="Seed of the distribution, for replay.")
    due_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(overlap__gte=1), name="assignment_overlap_min"
            )
        ]

    def __str__(self):
        return self.name or f"Assignment {self.pk}"


class ItemStatus(models.TextChoices):
    OPEN = "open", "Open"
    SUBMITTED = "submitted", "Submitted"
    SKIPPED = "skipped", "Skipped"


class AssignmentItem(models.Model):
    """One example for one annotator. ``leased_until`` marks an item someone has open right now."""

    team_path = "assignment__dataset__team"

    assignment = models.ForeignKey(Assignment, on_delete=models.CASCADE, related_name="items")
    example = models.ForeignKey(Example, on_delete=models.CASCADE, related_name="+")
    annotator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="assignment_items"
    )
    status = models.CharField(max_length=16, choices=ItemStatus.choices, default=ItemStatus.OPEN)
    leased_until = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["assignment_id", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["assignment", "example", "annotator"], name="assignment_item_unique"
            )
        ]
        indexes = [
            models.Index(fields=["annotator", "status", "id"], name="assignment_item_queue"),
        ]

    def __str__(self):
        return f"example {self.example_id} for user {self.annotator_id} ({self.status})"


class Annotation(models.Model):
    """What one annotator said about one example: a label and/or a rating, with notes."""

    team_path = "example__dataset__team"

    example = models.ForeignKey(Example, on_delete=models.CASCADE, related_name="annotations")
    annotator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="annotations"
    )
    assignment = models.ForeignKey(
        Assignment, null=True, blank=True, on_delete=models.SET_NULL, related_name="annotations"
    )
    label = models.CharField(max_length=200, blank=True)
    rating = models.FloatField(null=True, blank=True)
    notes = models.TextField(blank=True)
    guidelines_version = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["example_id", "annotator_id"]
        constraints = [
            models.UniqueConstraint(fields=["example", "annotator"], name="annotation_unique")
        ]

    def __str__(self):
        return f"annotation of example {self.example_id} by user {self.annotator_id}"
