from django.conf import settings as django_settings
from django.db import models

from finetunedb.teams.models import Team


class ExampleStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    NEEDS_REVIEW = "needs_review", "Needs review"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    ARCHIVED = "archived", "Archived"


class Split(models.TextChoices):
    TRAIN = "train", "Train"
    VALIDATION = "validation", "Validation"
    TEST = "test", "Test"
    UNASSIGNED = "unassigned", "Unassigned"


DEFAULT_DATASET_SETTINGS = {
    "target_context_tokens": 4096,
    "token_encoding": "cl100k_base",
    "base_model_hint": "",
    "require_approval": False,
    "assistant_json_schema": None,
    # semantic/ listens for import.finished and queues the dataset's embedding job
    "embed_after_import": False,
    # semantic/: a freeze checks the coverage plan: off, warn (recorded on the version), block
    "coverage_gate": "off",
}


class Dataset(models.Model):
    team_path = "team"

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="datasets")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    settings = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(
        django_settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["team", "name"], name="dataset_unique_name_per_team"),
        ]

    def __str__(self):
        return self.name

    @property
    def effective_settings(self) -> dict:
        return {**DEFAULT_DATASET_SETTINGS, **(self.settings or {})}


class Tag(models.Model):
    team_path = "dataset__team"

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="tags")
    name = models.CharField(max_length=64)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["dataset", "name"], name="tag_unique_name_per_dataset"),
        ]

    def __str__(self):
        return self.name


class Example(models.Model):
    """The live, editable row. Content lives in immutable revisions; ``revision`` is the
    optimistic-locking counter (the API's ETag), bumped by every change."""

    team_path = "dataset__team"

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="examples")
    current_revision = models.ForeignKey(
        "ExampleRevision", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    content_hash = models.CharField(max_length=64, db_index=True)
    status = models.CharField(
        max_length=16, choices=ExampleStatus.choices, default=ExampleStatus.DRAFT
    )
    split = models.CharField(max_length=16, choices=Split.choices, default=Split.UNASSIGNED)
    split_locked = models.BooleanField(
        default=False, help_text="Set by a manual split choice; automatic splitting keeps it."
    )
    tags = models.ManyToManyField(Tag, blank=True, related_name="examples")
    rating = models.PositiveSmallIntegerField(null=True, blank=True)
    notes = models.TextField(blank=True)
    source_format = models.CharField(max_length=32, default="manual")
    # The captured log this example was made from (capture.Log's id). A plain id, not a foreign
    # key: capture sits above this app, and the example outlives the log (retention).
    source_log = models.PositiveBigIntegerField(null=True, blank=True)
    revision = models.PositiveIntegerField(default=1)
    created_by = models.ForeignKey(
        django_settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["dataset", "status", "id"], name="example_dataset_status"),
            models.Index(fields=["dataset", "split", "id"], name="example_dataset_split"),
            models.Index(fields=["dataset", "content_hash"], name="example_dataset_hash"),
            # keyset pages of the workspace list sorted by last edit
            models.Index(fields=["dataset", "updated_at", "id"], name="example_dataset_updated"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(rating__isnull=True) | models.Q(rating__gte=1, rating__lte=5),
                name="example_rating_1_to_5",
            ),
        ]

    def __str__(self):
        return f"Example {self.pk}"


class ExampleRevision(models.Model):
    """Immutable content. A database trigger (migration 0002) refuses UPDATE of its content."""

    team_path = "example__dataset__team"

    example = models.ForeignKey(Example, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField()
    messages = models.JSONField()
    tools = models.JSONField(null=True, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    content_hash = models.CharField(max_length=64, db_index=True)
    author = models.ForeignKey(
        django_settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["example_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["example", "number"], name="revision_unique_number"),
        ]

    def __str__(self):
        return f"Example {self.example_id} r{self.number}"
