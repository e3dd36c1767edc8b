"""Training runs, the models they produce, and playground requests (DESIGN §2, §5).

Lineage: ModelArtifact → TrainingRun → DatasetVersion (id, and the version hash the run checked
before training) → the version's entries and their immutable revisions.
"""

from django.conf import settings as django_settings
from django.db import models

from datasets_app.models import DatasetVersion


class RunStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


FINISHED = (RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.CANCELLED)
ACTIVE = (RunStatus.QUEUED, RunStatus.RUNNING)


class Method(models.TextChoices):
    LORA = "lora", "LoRA adapter"
    FULL = "full", "Full fine-tuning"
    DPO = "dpo", "DPO (preference pairs)"
    ORPO = "orpo", "ORPO (preference pairs)"


class TrainingRun(models.Model):
    """One training of a base model on a frozen version. Progress and metrics live on the row;
    the worker that holds the lease (``attempts`` is its ticket) is the only writer."""

    team_path = "version__dataset__team"

    # PROTECT: a version that produced a model can never disappear from under its lineage.
    version = models.ForeignKey(
        DatasetVersion, on_delete=models.PROTECT, related_name="training_runs"
    )
    dataset_version_hash = models.CharField(
        max_length=64, help_text="The version hash at launch; the worker recomputes and compares."
    )
    base_model = models.CharField(max_length=500)
    method = models.CharField(max_length=8, choices=Method.choices, default=Method.LORA)
    config = models.JSONField(help_text="TrainConfig.to_dict() of the run.")
    seed = models.IntegerField(default=0)
    # SFT → DPO: the fine-tuned model a preference run starts from (its adapter merged into the
    # base before the run's own); the lineage names both versions through it.
    parent_model = models.ForeignKey(
        "training.ModelArtifact",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="child_runs",
    )

    status = models.CharField(max_length=16, choices=RunStatus.choices, default=RunStatus.QUEUED)
    phase = models.CharField(max_length=32, blank=True, help_text="What the worker is doing now.")
    step = models.PositiveIntegerField(default=0)
    total_steps = models.PositiveIntegerField(default=0)
    plan = models.JSONField(default=dict, blank=True, help_text="Pre-flight figures at setup.")
    metrics = models.JSONField(default=list, blank=True, help_text="Per-step metrics (bounded).")
    evals = models.JSONField(default=list, blank=True, help_text="Evaluations during training.")
    log_tail = models.JSONField(default=list, blank=True, help_text="Last log lines.")
    failure_reason = models.TextField(blank=True)
    cancel_requested = models.BooleanField(default=False)

    attempts = models.PositiveIntegerField(default=0)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    worker_id = models.CharField(max_length=200, blank=True)
    device = models.CharField(max_length=64, blank=True)
    library_versions = models.JSONField(default=dict, blank=True)

    created_by = models.ForeignKey(
        django_settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "lease_expires_at"], name="run_status_lease")]

    def __str__(self):
        return f"run {self.pk} on v{self.version_id}"

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED

    @property
    def progress(self) -> float:
        return self.step / self.total_steps if self.total_steps else 0.0


class EvalStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class ModelArtifact(models.Model):
    """The model a succeeded run wrote. ``path`` is relative to FINETUNEDB_MODELS_DIR and built
    from the run id only, never from user input."""

    team_path = "run__version__dataset__team"

    run = models.OneToOneField(TrainingRun, on_delete=models.PROTECT, related_name="model")
    path = models.CharField(max_length=300)
    weights_sha256 = models.CharField(max_length=64)
    manifest = models.JSONField(default=dict)
    model_card = models.TextField(blank=True)
    # Bytes of the published folder (the store's manifest, or the folder itself with the local
    # default), recorded at publish: the team's storage usage reads it instead of a disk that may
    # not hold the model. None: published before this column.
    size_bytes = models.BigIntegerField(null=True, blank=True)
    eval_status = models.CharField(
        max_length=16, choices=EvalStatus.choices, default=EvalStatus.PENDING
    )
    eval_results = models.JSONField(default=dict, blank=True)
    eval_error = models.TextField(blank=True)
    eval_started_at = models.DateTimeField(null=True, blank=True)
    # The evaluation's lease (training.services.jobs.EVALUATIONS): ``eval_attempts`` is its ticket.
    eval_attempts = models.PositiveIntegerField(default=0)
    eval_lease_expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"model {self.pk} (run {self.run_id})"


class PlaygroundStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class PlaygroundRequest(models.Model):
    """A conversation sent to a model's playground: the worker answers with base and fine-tuned."""

    team_path = "model__run__version__dataset__team"

    model = models.ForeignKey(ModelArtifact, on_delete=models.CASCADE, related_name="playground")
    messages = models.JSONField()
    status = models.CharField(
        max_length=16, choices=PlaygroundStatus.choices, default=PlaygroundStatus.QUEUED
    )
    answers = models.JSONField(default=dict, blank=True)
    sampling = models.JSONField(
        default=dict,
        blank=True,
        help_text="Empty: base and fine-tuned answer greedily ({base, finetuned}). "
        "{temperature, seeds: [a, b]}: the fine-tuned model answers twice, sampled at each "
        "seed ({a, b}).",
    )
    error = models.TextField(blank=True)
    # The request's lease (training.services.jobs.PLAYGROUND_REQUESTS): a worker killed while
    # answering leaves it running until the lease runs out, then recovery re-enqueues it.
    attempts = models.PositiveIntegerField(default=0)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        django_settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"playground {self.pk} of model {self.model_id}"
