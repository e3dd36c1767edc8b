"""Captured production traffic (DESIGN §8): team ingest keys, logs, and idempotent batches."""

from django.conf import settings
from django.db import models

from finetunedb.teams.models import HashedSecret, Team


class IngestKey(HashedSecret):
    """A team's secret for services that write logs, and nothing else (stored like a personal
    :class:`~finetunedb.teams.models.ApiToken`: the digest only, the value shown once)."""

    team_path = "team"

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="ingest_keys")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta(HashedSecret.Meta):
        pass


class LogSource(models.TextChoices):
    API = "api", "API"
    PROXY = "proxy", "Proxy"
    SERVING = "serving", "Serving"


class Log(models.Model):
    """One LLM call: the request (canonical messages + tools), the answer, and what it cost.

    Rows are written only by ``capture.services.logs.log_batch_create``; after that only the
    feedback fields change.
    """

    team_path = "team"

    # no index of its own: every index below starts with the team (one fewer write per log)
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="logs", db_index=False)
    messages = models.JSONField(help_text="The request's canonical messages.")
    tools = models.JSONField(null=True, blank=True)
    response = models.JSONField(
        null=True, blank=True, help_text="The answer: one canonical assistant message."
    )
    error = models.JSONField(
        null=True, blank=True, help_text="An OpenAI-shaped error when the call failed."
    )
    model = models.CharField(max_length=200)
    tags = models.JSONField(default=list, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    latency_ms = models.PositiveIntegerField(null=True, blank=True)
    prompt_tokens = models.PositiveIntegerField(null=True, blank=True)
    completion_tokens = models.PositiveIntegerField(null=True, blank=True)
    total_tokens = models.PositiveIntegerField(null=True, blank=True)
    trace_id = models.CharField(max_length=128, blank=True, default="")
    client_timestamp = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    source = models.CharField(max_length=16, choices=LogSource.choices, default=LogSource.API)
    # sha256 of the canonical {messages (+ the response), tools}: the example it would become.
    content_hash = models.CharField(max_length=64)
    # the conversation's text, case-folded, for ?search= (the JSON columns escape non-ASCII)
    search_text = models.TextField(blank=True, default="")
    ingest_key = models.ForeignKey(
        IngestKey, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    feedback_score = models.FloatField(null=True, blank=True)
    feedback_comment = models.TextField(blank=True, default="")
    feedback_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,  # a partial index below: nothing to write for a new log
    )
    feedback_at = models.DateTimeField(null=True, blank=True)
    # what the team's PII setting replaced before the log was stored: {"EMAIL": 2, "PHONE": 1}
    redactions = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            # the list pages newest first by id (keyset), per team, and its filters
            models.Index(fields=["team", "-id"], name="log_team_id"),
            models.Index(fields=["team", "model", "-id"], name="log_team_model"),
            models.Index(fields=["team", "created_at"], name="log_team_created"),
            models.Index(fields=["team", "trace_id"], name="log_team_trace"),
            # partial: a log arrives without feedback, so ingest writes neither index;
            # "feedback_score > 0" (and <, =, IS NOT NULL) imply the condition, so they use it
            models.Index(
                fields=["team", "feedback_score"],
                name="log_team_feedback_given",
                condition=models.Q(feedback_score__isnull=False),
            ),
            models.Index(
                fields=["feedback_by"],
                name="log_feedback_by",
                condition=models.Q(feedback_by__isnull=False),
            ),
        ]

    def __str__(self):
        return f"log {self.pk} ({self.model})"


class LogTag(models.Model):
    """One tag of one log, so a tag filter is an index lookup (JSON containment is not, on SQLite)."""

    team_path = "log__team"

    log = models.ForeignKey(Log, on_delete=models.CASCADE, related_name="tag_rows")
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="+", db_index=False)
    name = models.CharField(max_length=64)

    class Meta:
        indexes = [models.Index(fields=["team", "name", "-log"], name="logtag_team_name_log")]

    def __str__(self):
        return self.name


class LogMeta(models.Model):
    """One top-level scalar metadata value of one log, as text (``capture.entries.metadata_terms``),
    so ``?metadata.customer=c12`` is an index lookup, as a tag is."""

    team_path = "log__team"

    log = models.ForeignKey(Log, on_delete=models.CASCADE, related_name="meta_rows")
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="+", db_index=False)
    key = models.CharField(max_length=64)
    value = models.CharField(max_length=200)

    class Meta:
        indexes = [
            models.Index(fields=["team", "key", "value", "-log"], name="logmeta_team_key_value")
        ]

    def __str__(self):
        return f"{self.key}={self.value}"


class LogBatch(models.Model):
    """A batch stored under an ``Idempotency-Key``: a retry answers with the same ids."""

    team_path = "team"

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=200)
    ids = models.JSONField()
    errors = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["team", "key"], name="logbatch_unique_team_key")
        ]

    def __str__(self):
        return f"batch {self.key!r} ({len(self.ids)} logs)"


class CaptureRule(models.Model):
    """Routes new logs matching ``filter`` into ``dataset`` at ``sample_rate`` (DESIGN §8).

    Applied to each ingested batch after it commits (``capture.tasks.capture_rules_apply``);
    the sample is drawn from the log id and the rule id, so it does not depend on timing.
    """

    team_path = "team"

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="capture_rules")
    dataset = models.ForeignKey("datasets_app.Dataset", on_delete=models.CASCADE, related_name="+")
    filter = models.JSONField(default=dict, blank=True)
    sample_rate = models.FloatField(default=1.0)
    status = models.CharField(max_length=16, default="needs_review")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    applied_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(sample_rate__gt=0, sample_rate__lte=1),
                name="capturerule_sample_rate_range",
            )
        ]

    def __str__(self):
        return f"rule {self.pk} → dataset {self.dataset_id} at {self.sample_rate:.0%}"
