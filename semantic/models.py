from django.conf import settings as django_settings
from django.db import models

from datasets_app.models import Dataset


class EmbeddingStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class EmbeddingJob(models.Model):
    """Embed a dataset's live examples whose current revision has no embedding yet (an unchanged
    example is never embedded twice). Runs on the ``training`` queue, the worker with the GPU.
    The vectors live in files under the data folder (semantic/store.py), not in rows."""

    team_path = "dataset__team"

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="embedding_jobs")
    created_by = models.ForeignKey(
        django_settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    model_name = models.CharField(max_length=500, help_text="The bundled model or a folder.")
    status = models.CharField(
        max_length=16, choices=EmbeddingStatus.choices, default=EmbeddingStatus.QUEUED
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    examples_total = models.PositiveIntegerField(default=0, help_text="Live examples.")
    examples_to_embed = models.PositiveIntegerField(
        default=0, help_text="Those whose current revision had no embedding."
    )
    examples_embedded = models.PositiveIntegerField(default=0)
    failure_reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["dataset", "-id"], name="embjob_dataset")]

    def __str__(self):
        return f"Embedding job {self.pk} ({self.status})"

    @property
    def progress(self) -> float:
        if self.status == EmbeddingStatus.SUCCEEDED:
            return 1.0
        if not self.examples_to_embed:
            return 0.0
        return min(1.0, self.examples_embedded / self.examples_to_embed)


class CoverageTarget(models.Model):
    """One target of a dataset's coverage plan: the share of its examples (in one split, or in
    all) that should fall in a bucket — a topic cluster, a tag, or a metadata value. The
    arithmetic is semantic/coverage.py; percentages are stored exactly (two decimals)."""

    team_path = "dataset__team"

    KIND_CHOICES = [("topic", "Topic cluster"), ("tag", "Tag"), ("metadata", "Metadata value")]
    MODE_CHOICES = [("about", "About"), ("min", "At least"), ("max", "At most")]

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="coverage_targets")
    kind = models.CharField(max_length=16, choices=KIND_CHOICES)
    key = models.CharField(max_length=64, blank=True, help_text="The metadata key.")
    value = models.CharField(max_length=200, help_text="Topic number, tag, or metadata value.")
    split = models.CharField(max_length=32, blank=True, help_text="Empty: every split.")
    mode = models.CharField(max_length=8, choices=MODE_CHOICES)
    share = models.DecimalField(max_digits=5, decimal_places=2, help_text="Percent.")
    tolerance = models.DecimalField(max_digits=4, decimal_places=2, default=0)
    label = models.CharField(
        max_length=300, blank=True, help_text="A topic's label when the target was set."
    )
    created_by = models.ForeignKey(
        django_settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["dataset", "kind", "key", "value", "split"], name="coverage_target_bucket"
            )
        ]

    def __str__(self):
        return f"Coverage target {self.pk} ({self.kind} {self.value})"
