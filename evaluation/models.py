"""Eval suites, eval runs and their per-item results (DESIGN §8, "Evaluation").

A suite is a frozen version's split (or all of it) plus evaluators; its items are that
version's entries, fixed by the version hash recorded here, so a suite evaluates the same items
forever. A run generates with one model (a fine-tuned ModelArtifact or an allowed base model)
on every item, stores each output with every evaluator's score, and aggregates the metrics.
"""

from django.conf import settings as django_settings
from django.db import models

from datasets_app.models import DatasetVersion, VersionEntry
from finetunedb.teams.models import Team
from training.models import ModelArtifact


class EvalSplit(models.TextChoices):
    TEST = "test", "Test"
    VALIDATION = "validation", "Validation"
    TRAIN = "train", "Train"
    UNASSIGNED = "unassigned", "Unassigned"
    ALL = "all", "All of the version"


class EvalSuite(models.Model):
    team_path = "team"

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="eval_suites")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    # PROTECT: a suite's items are its version's entries; the version cannot disappear.
    version = models.ForeignKey(
        DatasetVersion, on_delete=models.PROTECT, related_name="eval_suites"
    )
    version_hash = models.CharField(max_length=64, help_text="The version hash the items are.")
    split = models.CharField(max_length=16, choices=EvalSplit.choices, default=EvalSplit.TEST)
    evaluators = models.JSONField(help_text="Validated [{type, params}] (defaults filled in).")
    item_count = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        django_settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["team", "name"], name="eval_suite_unique_name"),
        ]

    def __str__(self):
        return f"suite {self.name} (v{self.version_id} {self.split})"


class EvalRunStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


EVAL_FINISHED = (EvalRunStatus.SUCCEEDED, EvalRunStatus.FAILED, EvalRunStatus.CANCELLED)


class EvalRun(models.Model):
    """One model generating on every item of a suite. Progress and metrics live on the row; the
    worker holding the lease (``attempts`` is its ticket, evaluation.services.jobs.EVAL_RUNS)
    is its only writer."""

    team_path = "suite__team"

    suite = models.ForeignKey(EvalSuite, on_delete=models.CASCADE, related_name="runs")
    model = models.ForeignKey(
        ModelArtifact, null=True, blank=True, on_delete=models.PROTECT, related_name="eval_runs"
    )
    base_model = models.CharField(max_length=500, blank=True)
    max_new_tokens = models.PositiveIntegerField(default=128)
    temperature = models.FloatField(default=0.0)
    seed = models.IntegerField(default=0)
    # Repetition-aware decoding (Hugging Face generate's options); 1.0 and 0 are plain decoding.
    repetition_penalty = models.FloatField(default=1.0)
    no_repeat_ngram_size = models.PositiveSmallIntegerField(default=0)

    status = models.CharField(
        max_length=16, choices=EvalRunStatus.choices, default=EvalRunStatus.QUEUED
    )
    processed = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    metrics = models.JSONField(default=dict, blank=True)
    failure_reason = models.TextField(blank=True)
    cancel_requested = models.BooleanField(default=False)
    attempts = models.PositiveIntegerField(default=0)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    device = models.CharField(max_length=64, blank=True)

    created_by = models.ForeignKey(
        django_settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(model__isnull=False) & models.Q(base_model=""))
                | (models.Q(model__isnull=True) & ~models.Q(base_model="")),
                name="eval_run_one_model",
            ),
        ]

    def __str__(self):
        return f"eval run {self.pk} of suite {self.suite_id}"

    @property
    def decoding(self) -> str:
        """How answers were decoded, so runs with repetition options are told apart from plain
        greedy (or sampled) ones: ``greedy``, ``sampled``, or either with the options."""
        plain = "greedy" if not self.temperature else "sampled"
        options = []
        if self.repetition_penalty != 1.0:
            options.append(f"repetition_penalty={self.repetition_penalty:g}")
        if self.no_repeat_ngram_size:
            options.append(f"no_repeat_ngram_size={self.no_repeat_ngram_size}")
        return f"{plain}+{','.join(options)}" if options else plain

    @property
    def is_finished(self) -> bool:
        return self.status in EVAL_FINISHED

    @property
    def model_label(self) -> str:
        return f"model {self.model_id}" if self.model_id else self.base_model

    @property
    def progress(self) -> float:
        return self.processed / self.total if self.total else 0.0


class EvalResult(models.Model):
    """One item of a run: the version entry it came from, the model's output, every score."""

    team_path = "run__suite__team"

    run = models.ForeignKey(EvalRun, on_delete=models.CASCADE, related_name="results")
    entry = models.ForeignKey(VersionEntry, on_delete=models.PROTECT, related_name="+")
    position = models.PositiveIntegerField(help_text="The item's place in the suite (0-based).")
    reference = models.TextField(blank=True, null=True)  # noqa: DJ001 - None: no reference
    output = models.TextField()
    scores = models.JSONField(help_text="{evaluator name: {value, passed, detail, reason?}}")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["run_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["run", "entry"], name="eval_result_unique_item"),
        ]

    def __str__(self):
        return f"result {self.position} of eval run {self.run_id}"


# The pairwise review's and automatic evaluation's models live in their own modules; importing
# them here registers them.
from .auto_models import AutoEval  # noqa: E402, F401
from .judged_models import JudgedComparison  # noqa: E402, F401
from .pairwise_models import PairwiseItem, PairwiseJudgment, PairwiseReview  # noqa: E402, F401
