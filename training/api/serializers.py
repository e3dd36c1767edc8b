"""Output shapes of the training API. No absolute path of the server ever leaves it."""

from django.core.exceptions import ObjectDoesNotExist
from rest_framework import serializers

from finetunedb.parsers import StrictJSONField
from training.recipe.config import METHODS

from ..eta import run_eta_seconds
from ..services.lineage import model_lineage

# Manifest keys that name server paths; kept on the row, never returned.
PRIVATE_MANIFEST_KEYS = ("base_path",)


class RunInputSerializer(serializers.Serializer):
    base_model = serializers.CharField(
        required=False, allow_blank=True, max_length=500, help_text="Omit for the bundled default."
    )
    method = serializers.ChoiceField(
        choices=list(METHODS),
        required=False,
        default="lora",
        help_text="lora, full, or dpo / orpo on preference pairs (see docs/training.md).",
    )
    hyperparameters = StrictJSONField(
        required=False, default=dict, help_text="TrainConfig fields; see docs/training.md."
    )
    # Checked by the launch option evaluation registers (training.hooks), which names the item.
    eval_suites = StrictJSONField(
        required=False,
        default=None,
        help_text="Eval suite ids of the team: when the run succeeds, the new model (and the "
        "base and previous model, where they have no run there yet) is evaluated on each.",
    )
    # SFT → DPO (issue 20): a dpo/orpo run may start from a fine-tuned model of the team.
    start_from_model = serializers.IntegerField(
        required=False,
        min_value=1,
        help_text="dpo/orpo: a model id of the team to start from (its adapter is merged into "
        "the base first; the lineage names both versions).",
    )
    start_from_run = serializers.IntegerField(
        required=False,
        min_value=1,
        help_text="dpo/orpo: start from the model of this run of the team (409 while it trains).",
    )


class ModelSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    run = serializers.IntegerField(source="run_id")
    version = serializers.IntegerField(source="run.version_id")
    base_model = serializers.CharField(source="run.base_model")
    method = serializers.CharField(source="run.method")
    weights_sha256 = serializers.CharField()
    eval_status = serializers.CharField()
    created_at = serializers.DateTimeField()


class RunOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    version = serializers.IntegerField(source="version_id")
    dataset = serializers.IntegerField(source="version.dataset_id")
    dataset_version_hash = serializers.CharField()
    base_model = serializers.CharField()
    method = serializers.CharField()
    config = serializers.JSONField()
    seed = serializers.IntegerField()
    parent_model = serializers.IntegerField(
        source="parent_model_id",
        allow_null=True,
        help_text="SFT → DPO: the model this run started from (null: its base model).",
    )
    status = serializers.CharField()
    phase = serializers.CharField()
    step = serializers.IntegerField()
    total_steps = serializers.IntegerField()
    progress = serializers.FloatField()
    plan = serializers.JSONField()
    metrics = serializers.JSONField()
    evals = serializers.JSONField()
    log_tail = serializers.JSONField()
    failure_reason = serializers.CharField()
    cancel_requested = serializers.BooleanField()
    attempts = serializers.IntegerField()
    heartbeat_at = serializers.DateTimeField(allow_null=True)
    device = serializers.CharField()
    library_versions = serializers.JSONField()
    created_by = serializers.CharField(source="created_by.username", allow_null=True)
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    model = serializers.SerializerMethodField()
    eta_seconds = serializers.SerializerMethodField(
        help_text="Seconds left, from the measured step and evaluation times; null when unknown."
    )

    def get_eta_seconds(self, run) -> float | None:
        seconds = run_eta_seconds(run)
        return None if seconds is None else round(seconds, 1)

    def get_model(self, run) -> int | None:
        try:
            return run.model.pk
        except ObjectDoesNotExist:
            return None


class ModelOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    run = serializers.IntegerField(source="run_id")
    lineage = serializers.SerializerMethodField()
    base_model = serializers.CharField(source="run.base_model")
    method = serializers.CharField(source="run.method")
    config = serializers.JSONField(source="run.config")
    weights_sha256 = serializers.CharField()
    manifest = serializers.SerializerMethodField()
    model_card = serializers.CharField()
    eval_status = serializers.CharField()
    eval_results = serializers.JSONField()
    eval_error = serializers.CharField()
    files = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()

    def get_lineage(self, model) -> dict:
        return model_lineage(model.run, model_id=model.pk)

    def get_manifest(self, model) -> dict:
        return {k: v for k, v in model.manifest.items() if k not in PRIVATE_MANIFEST_KEYS}

    def get_files(self, model) -> list[str]:
        from .models import model_files

        return model_files(model)


class PlaygroundOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    model = serializers.IntegerField(source="model_id")
    messages = serializers.JSONField()
    status = serializers.CharField()
    answers = serializers.JSONField()
    sampling = serializers.JSONField(
        help_text="{} for base against fine-tuned; {temperature, seeds: [a, b]} for two "
        "sampled answers of the fine-tuned model."
    )
    error = serializers.CharField()
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
