from django.conf import settings as django_settings
from django.db import models

from .examples import Dataset, Example


class DedupMethod(models.TextChoices):
    EXACT = "exact", "Exact"
    NEAR = "near", "Near"
    SEMANTIC = "semantic", "Semantic (embeddings)"


class DedupFields(models.TextChoices):
    CONVERSATION = "conversation", "Whole conversation"
    PROMPT = "prompt", "Prompt side (system, user, tool)"
    RESPONSE = "response", "Response side (assistant)"


class DedupStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class DedupJob(models.Model):
    """One duplicate search over a dataset's non-archived examples. Claimed by a conditional
    UPDATE like an import; its clusters replace the dataset's stored clusters of its method in
    the same transaction that marks it succeeded."""

    team_path = "dataset__team"

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="dedup_jobs")
    created_by = models.ForeignKey(
        django_settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    method = models.CharField(max_length=8, choices=DedupMethod.choices)
    threshold = models.FloatField(default=0.8)
    fields = models.CharField(
        max_length=16, choices=DedupFields.choices, default=DedupFields.CONVERSATION
    )
    status = models.CharField(
        max_length=16, choices=DedupStatus.choices, default=DedupStatus.QUEUED
    )
    stage = models.CharField(max_length=16, blank=True, help_text="reading, comparing, saving")
    attempts = models.PositiveSmallIntegerField(default=0)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    examples_total = models.PositiveIntegerField(default=0)
    examples_processed = models.PositiveIntegerField(default=0)
    clusters_found = models.PositiveIntegerField(default=0)
    duplicates_found = models.PositiveIntegerField(
        default=0, help_text="Members beyond the first of every cluster: what keeping one removes."
    )
    failure_reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self):
        return f"Dedup {self.pk} ({self.method}, {self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in (DedupStatus.SUCCEEDED, DedupStatus.FAILED)

    @property
    def progress(self) -> float:
        if self.status == DedupStatus.SUCCEEDED:
            return 1.0
        if not self.examples_total:
            return 0.0
        # reading the rows is the measurable part; comparing and saving take the last tenth
        done = 0.9 * min(1.0, self.examples_processed / self.examples_total)
        return done + (0.05 if self.stage == "saving" else 0.0)


class DuplicateCluster(models.Model):
    """Examples found to be duplicates of each other by one job; replaced by the next job of the
    same method, dropped when a curator resolves it."""

    team_path = "dataset__team"

    dataset = models.ForeignKey(
        Dataset, on_delete=models.CASCADE, related_name="duplicate_clusters"
    )
    job = models.ForeignKey(
        DedupJob, null=True, blank=True, on_delete=models.SET_NULL, related_name="clusters"
    )
    method = models.CharField(max_length=8, choices=DedupMethod.choices)
    fields = models.CharField(max_length=16, choices=DedupFields.choices)
    threshold = models.FloatField()
    min_similarity = models.FloatField()
    max_similarity = models.FloatField()
    size = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["dataset", "method", "id"], name="dupcluster_ds_method")]

    def __str__(self):
        return f"{self.method} cluster {self.pk} ({self.size})"


class DuplicateClusterMember(models.Model):
    team_path = "cluster__dataset__team"

    cluster = models.ForeignKey(DuplicateCluster, on_delete=models.CASCADE, related_name="members")
    example = models.ForeignKey(
        Example, on_delete=models.CASCADE, related_name="cluster_memberships"
    )
    similarity = models.FloatField(help_text="Its highest similarity to another member.")

    class Meta:
        ordering = ["cluster_id", "example_id"]
        constraints = [
            models.UniqueConstraint(fields=["cluster", "example"], name="dupmember_unique"),
        ]

    def __str__(self):
        return f"Example {self.example_id} in cluster {self.cluster_id}"


class NotDuplicatePair(models.Model):
    """A curator's "these two are not duplicates", remembered for every later job. Stored with
    ``example_a < example_b`` so (a, b) and (b, a) are one row."""

    team_path = "dataset__team"

    dataset = models.ForeignKey(
        Dataset, on_delete=models.CASCADE, related_name="not_duplicate_pairs"
    )
    example_a = models.ForeignKey(Example, on_delete=models.CASCADE, related_name="+")
    example_b = models.ForeignKey(Example, on_delete=models.CASCADE, related_name="+")
    created_by = models.ForeignKey(
        django_settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["example_a", "example_b"], name="notdup_unique_pair"),
            models.CheckConstraint(
                condition=models.Q(example_a__lt=models.F("example_b")), name="notdup_ordered"
            ),
        ]
        indexes = [models.Index(fields=["dataset"], name="notdup_dataset")]

    def __str__(self):
        return f"Examples {self.example_a_id} and {self.example_b_id} are not duplicates"
