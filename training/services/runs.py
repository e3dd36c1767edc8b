"""Launching and cancelling training runs. The worker side is in ``execute``."""

from __future__ import annotations

from dataclasses import replace

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from finetunedb.exceptions import ApplicationError, ConflictError
from finetunedb.teams.permissions import Action
from finetunedb.teams.quota import team_storage_require_not_full, team_storage_usage_to_check
from finetunedb.teams.scoping import require_role
from training.recipe.config import ConfigError, TrainConfig

from ..models import ACTIVE, RunStatus, TrainingRun
from .base_models import base_model_check
from .records import preference_pair_counts, training_splits

NOT_FROZEN = "Only a frozen version can be trained on; this one is still being frozen."
NO_TRAINING_DATA = (
    "This version has no training examples (no train split and no unassigned examples)."
)
HYPERPARAMETERS_NOT_OBJECT = "hyperparameters must be a JSON object"
NOT_IN_HYPERPARAMETERS = "set {key} at the top level of the request, not in hyperparameters"
TOO_MANY_ACTIVE = (
    "This team already has {count} training run(s) queued or running (the limit is {limit}); "
    "wait for one to finish or cancel one."
)
ALREADY_FINISHED = "The run has already finished ({status})."
INVALID_CONFIG = "The training configuration is invalid."
NO_PREFERENCE_PAIRS = (
    "method {method} trains on preference pairs, and the training split of this version holds "
    "none (an example needs a rejected answer, metadata.rejected: import chosen/rejected rows)."
)
NOT_ALL_PAIRS = (
    "method {method} trains on preference pairs: {missing} of the {total} training examples "
    "of this version have no rejected answer (metadata.rejected); freeze a version of pairs only."
)


def training_config_build(
    *, base_model: str | None, method: str | None, hyperparameters
) -> TrainConfig:
    """A validated TrainConfig, or an ApplicationError whose errors name the field path."""
    if hyperparameters is None:
        hyperparameters = {}
    if not isinstance(hyperparameters, dict):
        raise _invalid("hyperparameters", HYPERPARAMETERS_NOT_OBJECT)
    for key in ("base_model", "method"):
        if key in hyperparameters:
            raise _invalid(f"hyperparameters.{key}", NOT_IN_HYPERPARAMETERS.format(key=key))
    base_model = base_model_check(base_model)
    values = {**hyperparameters, "base_model": base_model, "method": method or "lora"}
    try:
        return TrainConfig.from_dict(values)
    except ConfigError as exc:
        raise _invalid(config_error_path(str(exc)), str(exc)) from exc


def config_error_path(message: str) -> str:
    """The request path a ConfigError message points at (its field name comes first)."""
    field, sep, _ = message.partition(":")
    if sep and field.isidentifier():
        if field in ("base_model", "method"):
            return field
        return f"hyperparameters.{field}"
    return "hyperparameters"


def _require_pairs(version, method: str) -> None:
    pairs, total = preference_pair_counts(version, training_splits(version)["train"])
    if not pairs:
        message = NO_PREFERENCE_PAIRS.format(method=method)
        raise ApplicationError(
            message, code="no_preference_pairs", errors=[{"path": "method", "message": message}]
        )
    if pairs < total:
        message = NOT_ALL_PAIRS.format(method=method, missing=total - pairs, total=total)
        raise ApplicationError(
            message, code="not_all_pairs", errors=[{"path": "method", "message": message}]
        )


def _invalid(path: str, message: str) -> ApplicationError:
    return ApplicationError(INVALID_CONFIG, errors=[{"path": path, "message": message}])


def training_run_create(
    *,
    user,
    version,
    base_model: str | None = None,
    method: str | None = None,
    hyperparameters=None,
    start_from_model=None,
    start_from_run=None,
) -> TrainingRun:
    """Validate the configuration and queue a run on the ``training`` queue (on commit). A
    dpo/orpo run may start from a fine-tuned model of the team (``start_from_model`` or
    ``start_from_run``: services/chain.py).

    Nothing here tokenizes (seconds for a large version, on the request's thread): when a
    pre-flight of this version and configuration finished recently, its estimate is checked
    against the worker's budget now (400 preflight_over_budget, nothing created); otherwise the
    worker checks the budget first thing when it takes the run, on its own device and limits,
    and a run over it fails at once with the same readable reason (``execute._train``)."""
    from .chain import training_parent_check, training_parent_resolve

    require_role(user, version.dataset.team_id, Action.TRAIN)
    if not version.content_hash:
        raise ApplicationError(NOT_FROZEN, code="not_frozen")
    parent = training_parent_resolve(
        version=version, start_from_model=start_from_model, start_from_run=start_from_run
    )
    if parent is not None and not base_model:
        base_model = parent.run.base_model
    config = training_config_build(
        base_model=base_model, method=method, hyperparameters=hyperparameters
    )
    if parent is not None:
        training_parent_check(parent=parent, config=config)
        if config.uses_adapter and not config.merge_weights:
            # served as merged weights: its adapter belongs on the merged parent (chain.py)
            config = replace(config, merge_weights=True)
    if not (version.counts or {}).get(training_splits(version)["train"]):
        raise ApplicationError(NO_TRAINING_DATA, code="no_training_data")
    if config.is_preference:
        _require_pairs(version, config.method)
    # A run's size is unknown until it trains (checkpoints, adapter): a team with no byte left
    # under its quota may not start one (409, code team_storage_quota).
    team_storage_require_not_full(
        usage=team_storage_usage_to_check(team_id=version.dataset.team_id), what="a training run"
    )
    # A pre-flight of this version and configuration a moment ago already tokenized it: its
    # estimate must fit the worker's memory and time budget as it stands now.
    from .budget import training_budget_require
    from .preflight_jobs import preflight_estimate_cached  # it imports this module

    cached = preflight_estimate_cached(version=version, config=config)
    if cached is not None:
        training_budget_require(cached)
    limit = settings.FINETUNEDB_MAX_ACTIVE_RUNS_PER_TEAM
    with transaction.atomic():
        active = TrainingRun.objects.filter(
            version__dataset__team_id=version.dataset.team_id, status__in=ACTIVE
        ).count()
        if active >= limit:
            raise ConflictError(TOO_MANY_ACTIVE.format(count=active, limit=limit))
        run = TrainingRun.objects.create(
            version=version,
            dataset_version_hash=version.content_hash,
            base_model=config.base_model,
            method=config.method,
            config=config.to_dict(),
            seed=config.seed,
            parent_model=parent,
            created_by=user,
        )
        transaction.on_commit(lambda: training_run_enqueue(run.pk))
    return run


def training_run_enqueue(run_id: int) -> None:
    from ..tasks import training_run_execute as task

    task.delay(run_id)


def training_run_cancel(*, user, run: TrainingRun) -> TrainingRun:
    """A queued run is cancelled at once; a running one stops at its next step."""
    require_role(user, run.version.dataset.team_id, Action.TRAIN)
    now = timezone.now()
    if TrainingRun.objects.filter(pk=run.pk, status=RunStatus.QUEUED).update(
        status=RunStatus.CANCELLED, cancel_requested=True, finished_at=now, phase=""
    ):
        run.refresh_from_db()
        return run
    if not TrainingRun.objects.filter(pk=run.pk, status=RunStatus.RUNNING).update(
        cancel_requested=True
    ):
        run.refresh_from_db()
        raise ConflictError(ALREADY_FINISHED.format(status=run.status))
    run.refresh_from_db()
    return run
