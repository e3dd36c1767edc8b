"""SFT → DPO: the fine-tuned model a preference run starts from, checked at launch.

The parent is named by its model id (``start_from_model``) or by the run that trains it
(``start_from_run``: a run still queued or training answers 409, one that failed 400). It must be
a model of the version's team (another team's: 404, as if it did not exist) trained on the same
base model; the new run's base defaults to the parent's. The recipe merges the parent's adapter
into the base and trains a new adapter on top (training/recipe/preference_loop.py says why:
the reference is then the SFT model). A chained LoRA run also saves its merged weights, which is
what serving loads (the adapter alone belongs on the merged parent, not on the plain base).
"""

from __future__ import annotations

from django.http import Http404

from finetunedb.exceptions import ApplicationError, ConflictError
from finetunedb.teams.scoping import NOT_FOUND, parse_id

from ..models import ACTIVE, ModelArtifact, RunStatus, TrainingRun

NOT_PREFERENCE = (
    "start_from_model applies to dpo and orpo: a preference run may start from a fine-tuned "
    "model; an SFT run starts from its base model"
)
BOTH_GIVEN = "give start_from_model or start_from_run, not both"
STILL_TRAINING = "Run {id} is still {status}; start from its model once it has finished training."
NO_MODEL = "Run {id} {status} and produced no model to start from."
OTHER_BASE = (
    "the model to start from was trained on {parent!r}; a chained run trains on the same base "
    "(leave base_model out to use it)"
)


def _bad(path: str, message: str) -> ApplicationError:
    return ApplicationError(message, errors=[{"path": path, "message": message}])


def training_parent_resolve(
    *, version, start_from_model=None, start_from_run=None
) -> ModelArtifact | None:
    """The model a run on ``version`` starts from, or None when neither is given. Scoped to the
    version's team: another team's model or run is a 404."""
    if start_from_model in (None, "") and start_from_run in (None, ""):
        return None
    if start_from_model not in (None, "") and start_from_run not in (None, ""):
        raise _bad("start_from_run", BOTH_GIVEN)
    team_id = version.dataset.team_id
    if start_from_run not in (None, ""):
        run_id = parse_id(start_from_run)
        run = TrainingRun.objects.filter(pk=run_id, version__dataset__team_id=team_id).first()
        if run_id is None or run is None:
            raise Http404(NOT_FOUND)
        if run.status in ACTIVE:
            raise ConflictError(STILL_TRAINING.format(id=run.pk, status=run.status))
        model = ModelArtifact.objects.filter(run=run).first()
        if run.status != RunStatus.SUCCEEDED or model is None:
            raise _bad("start_from_run", NO_MODEL.format(id=run.pk, status=run.status))
        return model
    model_id = parse_id(start_from_model)
    model = (
        ModelArtifact.objects.select_related("run__version")
        .filter(pk=model_id, run__version__dataset__team_id=team_id)
        .first()
    )
    if model_id is None or model is None:
        raise Http404(NOT_FOUND)
    return model


def training_parent_check(*, parent: ModelArtifact, config) -> None:
    """Refuse a parent the recipe cannot start from (400 naming the field)."""
    if not config.is_preference:
        raise _bad("start_from_model", NOT_PREFERENCE)
    if parent.run.base_model != config.base_model:
        raise _bad("base_model", OTHER_BASE.format(parent=parent.run.base_model))
