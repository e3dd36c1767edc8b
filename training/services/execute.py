"""The worker side of a run: claim with a lease, check the version, train, publish the model.

``training_run_execute`` is safe to call any number of times for one run: only a queued run, or a
running one whose lease expired, can be claimed; a redelivered task while the first worker is
alive does nothing. A worker killed at any point leaves the run ``running`` with a lease that
runs out; recovery re-enqueues it and the recipe resumes from the newest complete checkpoint.
The model row is written, with the run's success, in one transaction and only while the lease is
still ours, so a run ends with one model.
"""

from __future__ import annotations

import logging
import os
import shutil
import socket

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from finetunedb import faults
from finetunedb.events import event_emit
from finetunedb.leases import lease_claim, lease_finish, lease_held, lease_recover
from training.recipe import artifacts
from training.recipe.base_models import BaseModelError
from training.recipe.config import ConfigError, TrainConfig
from training.recipe.data import OverlengthError, TemplateError
from training.recipe.reporter import TrainingOutOfMemory

from ..hooks import run_succeeded_notify
from ..models import ModelArtifact, RunStatus, TrainingRun
from . import distributed
from .base_models import base_cache_dir, model_relative_path, models_dir, run_dir
from .budget import TrainingOverBudget
from .jobs import MAX_ATTEMPTS, TRAINING_RUNS  # noqa: F401 - MAX_ATTEMPTS: tests read it here
from .lineage import model_lineage
from .model_store import model_folder, model_store_publish, model_stored_bytes
from .preflight import training_run_budget_require
from .records import training_splits, version_hash_recompute, version_records
from .reporter import LeaseLost, RunReporter

logger = logging.getLogger(__name__)

HASH_MISMATCH = (
    "The version's content no longer matches its hash (recorded {expected}…, recomputed "
    "{actual}…); training was refused. The version's data was changed outside the app."
)
CRASHED = "Training failed unexpectedly ({kind}: {detail}). The error was logged."
CANCELLED = "cancelled at step {step}"
TIME_LIMIT = (
    "The run passed its time limit of {hours:g} hours (FINETUNEDB_TRAINING_TIME_LIMIT_S) and was "
    "stopped. Train for fewer steps or epochs, on fewer examples or a smaller model, or ask an "
    "admin to raise the limit."
)
# Failures whose message is written for people: shown as they are.
READABLE = (
    TrainingOutOfMemory,
    distributed.TrainingProcessesFailed,
    ConfigError,
    BaseModelError,
    TemplateError,
    OverlengthError,
    TrainingOverBudget,
    ValueError,
)


def _worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:200]


def _claim(run_id: int) -> int | None:
    """Take the run if queued, or running under an expired lease; the attempt number, or None."""
    reset = {"heartbeat_at": timezone.now(), "worker_id": _worker_id(), "phase": "loading"}
    return lease_claim(TRAINING_RUNS, pk=run_id, reset=reset)


def _finish(run_id: int, attempt: int, status: str, **fields) -> bool:
    finished = lease_finish(
        TRAINING_RUNS, pk=run_id, attempt=attempt, status=status, phase="", **fields
    )
    if finished and status in (RunStatus.SUCCEEDED, RunStatus.FAILED):
        training_run_announce(run_id=run_id)
    return finished


EVENT_OF_STATUS = {
    RunStatus.RUNNING: "training.started",
    RunStatus.SUCCEEDED: "training.finished",
    RunStatus.FAILED: "training.failed",
}


def training_run_announce(*, run_id: int) -> None:
    """``training.started`` / ``.finished`` / ``.failed`` for the run's team, sent once the
    caller's transaction commits (finetunedb/events.py; docs/webhooks.md has the payload)."""
    run = TrainingRun.objects.select_related("version__dataset").get(pk=run_id)
    model = ModelArtifact.objects.filter(run_id=run_id).values_list("pk", flat=True).first()
    version, dataset = run.version, run.version.dataset
    event_emit(
        team_id=dataset.team_id,
        type=EVENT_OF_STATUS[run.status],
        data={
            "training_run": {
                "id": run.pk,
                "status": run.status,
                "base_model": run.base_model,
                "failure_reason": run.failure_reason,
                "url": f"/api/v1/training-runs/{run.pk}/",
            },
            "model": {"id": model, "url": f"/api/v1/models/{model}/"} if model else None,
            "version": {
                "id": version.pk,
                "name": version.name,
                "content_hash": run.dataset_version_hash,
            },
            "dataset": {"id": dataset.pk, "name": dataset.name},
        },
    )


def training_run_execute(*, run_id: int) -> None:
    attempt = _claim(run_id)
    if attempt is None:
        return
    training_run_announce(run_id=run_id)
    run = TrainingRun.objects.select_related("version", "version__dataset").get(pk=run_id)
    reporter = RunReporter(run, attempt)
    try:
        _train(run, attempt, reporter)
    except LeaseLost:
        logger.warning("run %s: lease lost, another worker has it", run_id)
    except READABLE as exc:
        _fail(run_id, attempt, reporter, str(exc))
    except SoftTimeLimitExceeded:
        hours = round(settings.FINETUNEDB_TASK_TIME_LIMITS_S["training"] / 3600, 2)
        _fail(run_id, attempt, reporter, TIME_LIMIT.format(hours=hours))
    except Exception as exc:
        logger.exception("training run %s crashed", run_id)
        detail = (str(exc).splitlines() or [""])[0][:300]
        _fail(run_id, attempt, reporter, CRASHED.format(kind=type(exc).__name__, detail=detail))


def _fail(run_id: int, attempt: int, reporter: RunReporter, reason: str) -> None:
    try:
        reporter.on_log(f"failed: {reason}")
    except LeaseLost:
        return
    _finish(run_id, attempt, RunStatus.FAILED, failure_reason=reason)


def _train(run: TrainingRun, attempt: int, reporter: RunReporter) -> None:
    if run.cancel_requested:
        _finish(run.pk, attempt, RunStatus.CANCELLED)
        return
    version = run.version
    recomputed = version_hash_recompute(version)
    if recomputed != run.dataset_version_hash or recomputed != version.content_hash:
        reporter.on_log("version hash mismatch")
        _finish(
            run.pk,
            attempt,
            RunStatus.FAILED,
            failure_reason=HASH_MISMATCH.format(
                expected=run.dataset_version_hash[:12], actual=recomputed[:12]
            ),
        )
        return
    config = TrainConfig.from_dict(run.config)
    splits = training_splits(version)
    train = version_records(version, splits["train"])
    validation = version_records(version, splits["validation"], limit=config.eval_max_records)
    reporter.on_log(
        f"attempt {attempt}: {len(train)} training and {len(validation)} validation examples "
        f"of v{version.number} (hash {recomputed[:12]}…)"
    )
    # The budget again, on this worker's device and limits (an admin may have lowered them, or
    # the web server did not have the model): over it, the run fails with the launch's message.
    reporter.estimate = training_run_budget_require(
        config=config, train=train, validation=validation
    )
    lineage = model_lineage(run, version_hash=recomputed, shape="manifest")
    processes = distributed.training_processes()
    start_from = model_folder(run.parent_model) if run.parent_model_id else None
    if processes > 1:
        outcome = distributed.train_in_processes(
            processes=processes,
            config=config.to_dict(),
            train=train,
            validation=validation,
            out_dir=run_dir(run.pk),
            models_dir=base_cache_dir(),
            lineage=lineage,
            reporter=reporter,
            device=settings.FINETUNEDB_TRAINING_DEVICE,
            start_from=start_from,
        )
        model = run_dir(run.pk) / "model"
        manifest = artifacts.read_manifest(model) if outcome == "completed" else None
    else:
        manifest = _train_here(
            config, train, validation, run.pk, reporter, lineage, start_from=start_from
        )
    reporter.flush(force=True)
    if manifest is None:
        _finish(run.pk, attempt, RunStatus.CANCELLED)
        return
    if _publish(run, attempt, manifest):
        shutil.rmtree(run_dir(run.pk) / "checkpoints", ignore_errors=True)


def _train_here(
    config, train, validation, run_id, reporter, lineage, *, start_from=None
) -> dict | None:
    """Train in this process; the model's manifest, or None when cancelled. ``start_from``:
    the parent model's folder of an SFT → DPO run."""
    # torch: imported only where training runs
    from training.recipe.preference_loop import make_recipe

    recipe = make_recipe(
        config,
        out_dir=run_dir(run_id),
        models_dir=base_cache_dir(),
        reporter=reporter,
        device=settings.FINETUNEDB_TRAINING_DEVICE or None,
        **({"start_from": start_from} if start_from is not None else {}),
    )
    plan = recipe.setup(train, validation)
    reporter.resume_step = recipe.step
    reporter.flush(
        force=True,
        plan=plan,
        total_steps=plan["total_steps"],
        device=str(recipe.device),
        library_versions=artifacts.library_versions(),
    )
    result = recipe.train()
    if result.status == "cancelled":
        return None
    reporter.flush(force=True, phase="saving")
    return recipe.save(lineage=lineage)


def _publish(run: TrainingRun, attempt: int, manifest: dict) -> bool:
    relative = model_relative_path(run.pk)
    card = (models_dir() / relative / "README.md").read_text(encoding="utf-8")
    # Uploaded before the row exists: a worker elsewhere never sees a model whose files are not
    # all in the store (a cut-off upload leaves no manifest, so no model).
    size = model_stored_bytes(run=run, published=model_store_publish(run=run))
    faults.fault_point("train.before_lineage_write")
    with transaction.atomic():
        # Ownership is checked inside the transaction: a worker that lost its lease while saving
        # must not publish next to the one that took over.
        if not lease_held(TRAINING_RUNS, pk=run.pk, attempt=attempt, alive=True).exists():
            return False
        model = ModelArtifact.objects.create(
            run=run,
            path=relative,
            weights_sha256=manifest["weights_sha256"],
            manifest=manifest,
            model_card=card,
            size_bytes=size,
        )
        _finish(run.pk, attempt, RunStatus.SUCCEEDED)
        transaction.on_commit(lambda: model_evaluate_enqueue(model.pk))
        # The apps above start their work (evaluation: the suites the launch named).
        transaction.on_commit(lambda: run_succeeded_notify(run_id=run.pk, model_id=model.pk))
    return True


def model_evaluate_enqueue(model_id: int) -> None:
    from ..tasks import model_evaluate as task

    task.delay(model_id)


def training_runs_recover() -> int:
    """Re-enqueue runs a dead worker left behind (queued for a while, or running with an expired
    lease); how many. Evaluations and playground requests are kinds of their own: the registry's
    ``finetunedb.leases.jobs_recover`` recovers every kind."""
    return lease_recover(TRAINING_RUNS)
