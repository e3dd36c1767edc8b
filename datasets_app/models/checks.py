from django.db import models

from .examples import Dataset, Example


class Severity(models.TextChoices):
    ERROR = "error", "Error"
    WARNING = "warning", "Warning"
    INFO = "info", "Info"


class CheckResult(models.Model):
    """One finding of the check engine. ``example`` is null for findings about the whole dataset;
    dataset-level rules that concern particular examples store one row per example so the
    example list can filter by rule. Rows are replaced, never edited, when checks recompute."""

    team_path = "dataset__team"

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="check_results")
    example = models.ForeignKey(
        Example, null=True, blank=True, on_delete=models.CASCADE, related_name="check_results"
    )
    rule_id = models.CharField(max_length=64)
    severity = models.CharField(max_length=8, choices=Severity.choices)
    scope = models.CharField(max_length=8, default="example", help_text="example or dataset rule")
    message = models.TextField()
    path = models.CharField(max_length=255, blank=True)
    details = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["dataset", "rule_id"], name="check_dataset_rule"),
            models.Index(fields=["dataset", "severity"], name="check_dataset_severity"),
            models.Index(fields=["example", "rule_id"], name="check_example_rule"),
        ]

    def __str__(self):
        return f"{self.rule_id} ({self.severity})"
