from django.db import models

from .examples import Dataset


class DatasetReport(models.Model):
    """The latest full check run of a dataset: what the per-example rows cannot hold (token
    statistics, histograms, dataset findings with their details). One row per dataset.

    ``queued_at`` is the debounce marker: set when a run is enqueued, cleared when that run
    starts, so a burst of edits enqueues one run. The report is stale while a run is pending or
    when anything changed after the last run started (``requested_at`` is later).
    """

    team_path = "dataset__team"

    dataset = models.OneToOneField(Dataset, on_delete=models.CASCADE, related_name="check_report")
    queued_at = models.DateTimeField(null=True, blank=True)
    requested_at = models.DateTimeField(null=True, blank=True)
    computed_at = models.DateTimeField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    settings_used = models.JSONField(default=dict, blank=True)
    n_examples = models.PositiveIntegerField(default=0)
    token_stats = models.JSONField(null=True, blank=True)
    histograms = models.JSONField(default=dict, blank=True)
    dataset_findings = models.JSONField(default=list, blank=True)
    failure = models.TextField(blank=True)

    def __str__(self):
        return f"Check report of dataset {self.dataset_id}"

    @property
    def pending(self) -> bool:
        return self.queued_at is not None

    @property
    def stale(self) -> bool:
        if self.pending or self.computed_at is None:
            return True
        return self.requested_at is not None and self.requested_at > self.computed_at
