"""Team annotation (issue 21): assignments of examples to annotators, their items and labels."""

from django.conf import settings
from django.db import models

from datasets_app.models import Dataset, Example, ExampleRevision


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


class Guidelines(models.Model):
    """Every version of an assignment's guidelines, kept: an annotation names the one it saw."""

    team_path = "assignment__dataset__team"

    assignment = models.ForeignKey(
        Assignment, on_delete=models.CASCADE, related_name="guideline_versions"
    )
    version = models.PositiveIntegerField()
    text = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["assignment_id", "version"]
        constraints = [
            models.UniqueConstraint(fields=["assignment", "version"], name="guidelines_unique")
        ]

    def __str__(self):
        return f"guidelines v{self.version} of assignment {self.assignment_id}"


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
    opened_at = models.DateTimeField(
        null=True, blank=True, help_text="First claimed: the start of the time spent on it."
    )
    submitted_at = models.DateTimeField(null=True, blank=True)
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


class Verdict(models.TextChoices):
    """An annotator's verdict; adjudication writes the chosen one as the example's status."""

    APPROVED = "approved", "Approve"
    REJECTED = "rejected", "Reject"


class Annotation(models.Model):
    """What one annotator said about one example: verdict, rating, tags, a note, maybe an edited
    answer. Separate from the example's consensus fields, which only adjudication writes."""

    team_path = "example__dataset__team"

    example = models.ForeignKey(Example, on_delete=models.CASCADE, related_name="annotations")
    annotator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="annotations"
    )
    assignment = models.ForeignKey(
        Assignment, null=True, blank=True, on_delete=models.SET_NULL, related_name="annotations"
    )
    verdict = models.CharField(max_length=16, choices=Verdict.choices, blank=True)
    rating = models.FloatField(null=True, blank=True)
    tags = models.JSONField(default=list, blank=True)
    notes = models.TextField(blank=True)
    answer = models.TextField(
        blank=True, help_text="The annotator's edit of the last assistant answer; empty: none."
    )
    seconds_spent = models.FloatField(null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
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


class Adjudication(models.Model):
    """A reviewer's decision on one example of an assignment: the consensus written to it."""

    team_path = "example__dataset__team"

    assignment = models.ForeignKey(
        Assignment, on_delete=models.CASCADE, related_name="adjudications"
    )
    example = models.ForeignKey(Example, on_delete=models.CASCADE, related_name="+")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(max_length=16)
    rating = models.PositiveSmallIntegerField(null=True, blank=True)
    tags = models.JSONField(default=list, blank=True)
    revision = models.ForeignKey(
        ExampleRevision,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The revision the answer edit made, if any.",
    )
    annotators = models.JSONField(
        default=list, help_text="Ids of every annotator whose annotation this decision weighed."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"adjudication of example {self.example_id}: {self.status}"
