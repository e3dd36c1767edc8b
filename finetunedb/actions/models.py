from django.conf import settings
from django.db import models
from django.db.models import Q


class ActionStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


ACTIVE = (ActionStatus.QUEUED, ActionStatus.RUNNING)


class ActionJob(models.Model):
    """One slow action a person asked for from a page, run by a worker.

    ``key`` names what the action works on (``freeze dataset 12``); at most one job per key is
    queued or running at a time (a partial unique index), so a second click joins the first job
    instead of starting another. The runner's answer is ``result`` and the page it is shown on
    ``result_url``; a refusal is ``failure_reason`` with ``failure_details``."""

    team_path = "team"

    team = models.ForeignKey("teams.Team", on_delete=models.CASCADE, related_name="+")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    action = models.CharField(max_length=32)
    key = models.CharField(max_length=200)
    title = models.CharField(max_length=300, help_text="What the status page calls the job.")
    params = models.JSONField(default=dict)
    back_url = models.CharField(max_length=500, blank=True, help_text="The page it was asked on.")
    status = models.CharField(
        max_length=16, choices=ActionStatus.choices, default=ActionStatus.QUEUED
    )
    stage = models.CharField(max_length=120, blank=True)
    done = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0, help_text="0 while the amount is unknown.")
    result = models.JSONField(null=True, blank=True)
    result_url = models.CharField(max_length=500, blank=True)
    failure_reason = models.TextField(blank=True)
    failure_details = models.JSONField(default=list, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["key"],
                condition=Q(status__in=["queued", "running"]),
                name="one_active_action_job_per_key",
            )
        ]
        indexes = [models.Index(fields=["key", "status", "-finished_at"])]

    def __str__(self):
        return f"{self.title} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in (ActionStatus.SUCCEEDED, ActionStatus.FAILED)

    @property
    def progress(self) -> float | None:
        """Share done from 0 to 1; None while the amount of work is unknown."""
        if self.status == ActionStatus.SUCCEEDED:
            return 1.0
        if not self.total:
            return None
        return min(1.0, self.done / self.total)
