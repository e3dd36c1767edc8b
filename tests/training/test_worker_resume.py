"""A real ``celery worker`` on the training queue is killed with SIGKILL after the run wrote a
complete checkpoint; the next worker recovers the run, the recipe resumes from that checkpoint,
and the run ends with one model."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from finetunedb import faults
from tests.datasets_app.test_import_worker import Workers
from training.models import ModelArtifact, TrainingRun
from training.services import runs
from training.services.base_models import run_dir

WAIT_S = 90


@pytest.fixture
def workers(settings, tmp_path, tiny_model_dir, training_transactional_db):
    settings.DATA_DIR = tmp_path / "data"
    settings.FINETUNEDB_MODELS_DIR = settings.DATA_DIR / "models"
    settings.FINETUNEDB_BASE_MODELS = [str(tiny_model_dir)]
    with Workers(settings.DATA_DIR, tmp_path) as running:
        yield running


def _wait_for(predicate, what: str, workers: Workers, timeout: float = WAIT_S):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.02)
    pytest.fail(f"timed out waiting for {what}\n{workers.logs()}")


def _send(workers: Workers, run_id: int) -> None:
    from celery import Celery

    sender = Celery("sender", broker="filesystem://", set_as_current=False)
    folder = str(workers.broker / "queue")
    sender.conf.broker_transport_options = {
        "data_folder_in": folder,
        "data_folder_out": folder,
        "processed_folder": str(workers.broker / "processed"),
        "control_folder": str(workers.broker / "control"),
    }
    try:
        sender.send_task("training.training_run_execute", args=[run_id], queue="training")
    finally:
        sender.close()


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_it_resumes_from_the_checkpoint_after_the_worker_is_killed(
    workers, settings, owner, version, tiny_model_dir, monkeypatch
):
    monkeypatch.setattr(runs, "training_run_enqueue", lambda run_id: None)
    run = runs.training_run_create(
        user=owner,
        version=version,
        base_model=str(tiny_model_dir),
        hyperparameters={
            "epochs": 3,
            "batch_size": 2,
            "max_seq_len": 64,
            "checkpoint_interval": 2,
            "eval_interval": 0,
            "lora_r": 4,
        },
    )
    env = {
        "FINETUNEDB_MODELS_DIR": str(settings.FINETUNEDB_MODELS_DIR),
        "FINETUNEDB_BASE_MODELS": str(tiny_model_dir),
        "FINETUNEDB_TRAINING_DEVICE": "cpu",
        "FINETUNEDB_EVAL_SAMPLES": "1",
        "FINETUNEDB_EVAL_MAX_NEW_TOKENS": "4",
    }
    checkpoint = run_dir(run.pk) / "checkpoints" / "step-2" / "COMPLETE"
    _send(workers, run.pk)
    first, _ = workers.start(**env, **{faults.ENV: "train.after_step=delay:0.5"})
    _wait_for(checkpoint.is_file, "the first complete checkpoint", workers)
    workers.kill(first)

    killed = TrainingRun.objects.get(pk=run.pk)
    assert killed.status == "running" and killed.attempts == 1
    assert 2 <= killed.step < killed.total_steps == 12
    assert not ModelArtifact.objects.exists()

    # Stands for the lease running out without making the test wait for it.
    TrainingRun.objects.filter(pk=run.pk).update(
        lease_expires_at=timezone.now() - timedelta(seconds=1)
    )
    workers.start(**env)  # recovers the run when it is ready: nobody enqueues it again
    _wait_for(
        lambda: TrainingRun.objects.get(pk=run.pk).is_finished, "the resumed run to finish", workers
    )
    done = TrainingRun.objects.get(pk=run.pk)
    assert done.status == "succeeded", f"{done.failure_reason}\n{workers.logs()}"
    assert done.attempts == 2 and done.step == 12
    resumed = [line for line in done.log_tail if "resumed from step-" in line]
    assert len(resumed) == 1, done.log_tail
    resumed_at = int(resumed[0].split("resumed from step-")[1].split()[0])
    assert resumed_at >= 2 and resumed_at % 2 == 0
    # The series has each step once: points logged after the checkpoint were trained again.
    assert [p["step"] for p in done.metrics] == list(range(1, 13))
    assert ModelArtifact.objects.filter(run=done).count() == 1
    assert (run_dir(run.pk) / "model" / "COMPLETE").is_file()
