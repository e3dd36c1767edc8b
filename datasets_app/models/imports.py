from django.conf import settings as django_settings
from django.db import models

from .examples import Dataset, ExampleStatus


class ImportStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class ImportMode(models.TextChoices):
    STRICT = "strict", "Strict: any bad line stores nothing"
    SKIP_INVALID = "skip_invalid", "Skip invalid lines"


class ImportJob(models.Model):
    """One uploaded file being turned into examples. The upload is stored under a generated name
    (``stored_name``); the user's file name is metadata only. Rows are staged outside the
    database and published in one transaction together with the final status."""

    team_path = "dataset__team"

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="import_jobs")
    created_by = models.ForeignKey(
        django_settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    original_name = models.CharField(max_length=255, blank=True)
    stored_name = models.CharField(max_length=64, unique=True)
    size_bytes = models.BigIntegerField(default=0)
    requested_format = models.CharField(max_length=32, default="auto")
    detected_format = models.CharField(max_length=32, blank=True)
    container = models.CharField(max_length=16, blank=True)
    compressed = models.BooleanField(default=False)
    column_mapping = models.JSONField(null=True, blank=True)
    mode = models.CharField(max_length=16, choices=ImportMode.choices, default=ImportMode.STRICT)
    skip_duplicates = models.BooleanField(default=False)
    # the status every example this import creates starts in (a review pipeline can import
    # straight into needs_review instead of marking 50,000 drafts by hand)
    initial_status = models.CharField(
        max_length=16, choices=ExampleStatus.choices, default=ExampleStatus.DRAFT
    )

    status = models.CharField(
        max_length=16, choices=ImportStatus.choices, default=ImportStatus.QUEUED
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    bytes_processed = models.BigIntegerField(default=0)
    rows_processed = models.BigIntegerField(default=0)
    rows_valid = models.BigIntegerField(default=0)
    rows_invalid = models.BigIntegerField(default=0)
    duplicates_in_file = models.BigIntegerField(default=0)
    duplicates_in_dataset = models.BigIntegerField(default=0)
    examples_created = models.BigIntegerField(default=0)
    first_errors = models.JSONField(default=list, blank=True)
    failure_reason = models.TextField(blank=True)
    has_error_report = models.BooleanField(default=False)
    # The report's size, recorded by the worker that wrote it: the team's storage usage counts it
    # where the web's disk does not hold it (object storage). None: recorded before this column.
    report_bytes = models.BigIntegerField(null=True, blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["status", "lease_expires_at"], name="import_status_lease")]

    def __str__(self):
        return f"Import {self.pk} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in (ImportStatus.SUCCEEDED, ImportStatus.FAILED)

    @property
    def progress(self) -> float:
        if self.status == ImportStatus.SUCCEEDED:
            return 1.0
        return min(1.0, self.bytes_processed / self.size_bytes) if self.size_bytes else 0.0
