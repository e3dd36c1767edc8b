"""Training under faults, with real worker processes on the training queue (SECURITY.md §6 F5–F9):
a worker killed after a step and in the middle of a checkpoint save resumes from the last
COMPLETE checkpoint; a redelivered task is a no-op while the first runs; a frozen worker loses its
lease and cannot write lineage when it wakes; a full disk during a checkpoint fails the run
cleanly with the previous checkpoint intact. After each: one model at most, the invariants hold."""

from __future__ import annotations

import re
import signal
from datetime import timedelta

import pytest
from django.utils import timezone

from training.models import ModelArtifact, TrainingRun
from training.services import execute, runs
from training.services.base_models import run_dir

from .invariants import assert_invariants

TASK = "training.training_run_execute"
HYPER = {
    "epochs": 3,
    "batch_size": 2,
    "max_seq_len": 64,
    "checkpoint_interval": 2,
    "eval_interval": 0,
    "lora_r": 4,
}  # 8 training examples: 4 steps an epoch, 12 in all, a checkpoint every 2
TOTAL = 12
SLOW_STEPS = "train.after_step=delay:0.3"


@pytest.fixture
def trainers(workers, settings, tiny_model_dir, training_transactional_db):
    settings.FINETUNEDB_MODELS_DIR = settings.DATA_DIR / "models"
    settings.FINETUNEDB_BASE_MODELS = [str(tiny_model_dir)]
    workers.extra_env.update(
        FINETUNEDB_MODELS_DIR=str(settings.FINETUNEDB_MODELS_DIR),
        FINETUNEDB_BASE_MODELS=str(tiny_model_dir),
        FINETUNEDB_TRAINING_DEVICE="cpu",
        FINETUNEDB_EVAL_SAMPLES="1",
        FINETUNEDB_EVAL_MAX_NEW_TOKENS="4",
    )
    return workers


def _run(owner, version, tiny_model_dir, monkeypatch) -> TrainingRun:
    monkeypatch.setattr(runs, "training_run_enqueue", lambda run_id: None)
    run = runs.training_run_create(
        user=owner, version=version, base_model=str(tiny_model_dir), hyperparameters=HYPER
    )
    monkeypatch.undo()
    return run


def _expire_lease(run_id: int) -> None:
    TrainingRun.objects.filter(pk=run_id).update(
        lease_expires_at=timezone.now() - timedelta(seconds=1)
    )


def _finished(workers, run_id: int) -> TrainingRun:
    workers.wait_for(
        lambda: TrainingRun.objects.get(pk=run_id).is_finished, "the run to finish", 150
    )
    return TrainingRun.objects.get(pk=run_id)


def _resumed_from(run: TrainingRun) -> list[int]:
    return [int(m) for line in run.log_tail for m in re.findall(r"resumed from step-(\d+)", line)]


def _check(workers, settings):
    assert_invariants(data_dir=workers.data_dir, models_dir=settings.FINETUNEDB_MODELS_DIR)


@pytest.mark.slow
@pytest.mark.timeout(240)
@pytest.mark.parametrize(
    ("fault", "resumes_at"),
    [("train.after_step@5=kill", 4), ("train.mid_checkpoint_save@2=kill", 2)],
)
def test_it_resumes_from_the_last_complete_checkpoint_after_a_kill(
    trainers,
    settings,
    owner,
    version,
    tiny_model_dir,
    monkeypatch,
    fault,
    resumes_at,
):
    run = _run(owner, version, tiny_model_dir, monkeypatch)
    trainers.send(TASK, [run.pk], queue="training")
    first, log = trainers.start(queues="training", faults_spec=fault)
    trainers.wait_for(lambda: b"fault point train." in log.read_bytes(), "the fault point", 120)
    trainers.wait_exit(first)
    killed = TrainingRun.objects.get(pk=run.pk)
    assert killed.status == "running" and killed.attempts == 1
    assert not ModelArtifact.objects.exists()
    if "checkpoint" in fault:  # the half-written checkpoint is there, unmarked
        assert list((run_dir(run.pk) / "checkpoints").glob(".tmp-step-4-*"))

    _expire_lease(run.pk)
    trainers.start(queues="training")
    done = _finished(trainers, run.pk)
    assert done.status == "succeeded", f"{done.failure_reason}\n{trainers.logs()}"
    assert (done.attempts, done.step) == (2, TOTAL)
    assert _resumed_from(done) == [resumes_at]
    assert [p["step"] for p in done.metrics] == list(range(1, TOTAL + 1))
    assert ModelArtifact.objects.filter(run=done).count() == 1
    _check(trainers, settings)


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_it_ignores_a_task_redelivered_while_the_first_still_runs(
    trainers,
    settings,
    owner,
    version,
    tiny_model_dir,
    monkeypatch,
):
    run = _run(owner, version, tiny_model_dir, monkeypatch)
    first, first_log = trainers.start(queues="training", faults_spec=SLOW_STEPS)
    second, second_log = trainers.start(queues="training", faults_spec=SLOW_STEPS)
    trainers.send(TASK, [run.pk], queue="training")
    trainers.wait_for(lambda: TrainingRun.objects.get(pk=run.pk).step >= 1, "the first step", 120)
    trainers.send(TASK, [run.pk], queue="training")  # the broker's redelivery
    done = _finished(trainers, run.pk)
    trainers.wait_for(
        lambda: sum(log.read_text().count("succeeded in") for _, log in trainers.procs) >= 2,
        "the redelivered copy to be processed",
    )
    assert (done.status, done.attempts) == ("succeeded", 1)
    assert ModelArtifact.objects.filter(run=done).count() == 1
    _check(trainers, settings)


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_it_stops_a_frozen_worker_from_writing_lineage_after_it_lost_its_lease(
    trainers,
    settings,
    owner,
    version,
    tiny_model_dir,
    monkeypatch,
):
    run = _run(owner, version, tiny_model_dir, monkeypatch)
    trainers.send(TASK, [run.pk], queue="training")
    first, log = trainers.start(queues="training", faults_spec="train.before_lineage_write=delay:2")
    trainers.wait_for(
        lambda: b"fault point train.before_lineage_write" in log.read_bytes(),
        "the lineage write",
        120,
    )
    trainers.signal(first, signal.SIGSTOP)  # no heartbeat from here on
    _expire_lease(run.pk)
    trainers.start(queues="training")  # recovers the run on start
    done = _finished(trainers, run.pk)
    assert (done.status, done.attempts) == ("succeeded", 2)
    model = ModelArtifact.objects.get(run=done)

    trainers.signal(first, signal.SIGCONT)
    trainers.wait_for(lambda: b"succeeded in" in log.read_bytes(), "the woken worker to give up")
    assert ModelArtifact.objects.filter(run=done).get() == model
    assert TrainingRun.objects.get(pk=run.pk).attempts == 2
    _check(trainers, settings)


@pytest.mark.timeout(120)
def test_it_fails_the_run_cleanly_when_the_disk_fills_during_a_checkpoint(
    training_settings,
    training_transactional_db,
    owner,
    version,
    tiny_model_dir,
    monkeypatch,
    fault_plan,
    data_dir,
):
    from training.recipe import checkpoints

    run = _run(owner, version, tiny_model_dir, monkeypatch)
    fault_plan("train.mid_checkpoint_save@2=disk_full")
    execute.training_run_execute(run_id=run.pk)
    failed = TrainingRun.objects.get(pk=run.pk)
    assert failed.status == "failed" and "No space left" in failed.failure_reason
    root = run_dir(run.pk) / "checkpoints"
    assert [p.name for p in root.iterdir()] == ["step-2"]
    assert checkpoints.latest_checkpoint(run_dir(run.pk)) == root / "step-2"
    assert not ModelArtifact.objects.exists()
    assert_invariants(data_dir=data_dir, models_dir=training_settings.FINETUNEDB_MODELS_DIR)


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_it_answers_a_playground_request_whose_worker_was_killed_mid_answer(
    trainers,
    settings,
    owner,
    version,
    tiny_model_dir,
    monkeypatch,
):
    from finetunedb.leases import lease_held
    from training.models import PlaygroundRequest
    from training.services import evaluation
    from training.services.jobs import PLAYGROUND_REQUESTS

    run = _run(owner, version, tiny_model_dir, monkeypatch)
    monkeypatch.setattr(execute, "model_evaluate_enqueue", lambda model_id: None)
    TrainingRun.objects.filter(pk=run.pk).update(config={**run.config, "epochs": 1})
    execute.training_run_execute(run_id=run.pk)  # in this process: the model to ask
    model = ModelArtifact.objects.get(run=run)
    monkeypatch.setattr(evaluation, "playground_request_enqueue", lambda request_id: None)
    request = evaluation.playground_request_create(
        user=owner, model=model, messages=[{"role": "user", "content": "What is 2 + 3?"}]
    )
    trainers.extra_env["FINETUNEDB_PLAYGROUND_MAX_NEW_TOKENS"] = "4"
    trainers.send("training.playground_request_run", [request.pk], queue="training")
    first, log = trainers.start(queues="training", faults_spec="playground.generate=kill")
    trainers.wait_for(lambda: b"fault point playground." in log.read_bytes(), "the fault", 120)
    trainers.wait_exit(first)
    killed = PlaygroundRequest.objects.get(pk=request.pk)
    assert (killed.status, killed.attempts) == ("running", 1)
    assert killed.lease_expires_at is not None  # before leases: running, for ever

    PlaygroundRequest.objects.filter(pk=request.pk).update(
        lease_expires_at=timezone.now() - timedelta(seconds=1)
    )
    trainers.start(queues="training")  # its start-up sweep recovers the request
    trainers.wait_for(
        lambda: PlaygroundRequest.objects.get(pk=request.pk).status in ("done", "failed"),
        "the request to be answered",
        150,
    )
    done = PlaygroundRequest.objects.get(pk=request.pk)
    assert (done.status, done.attempts) == ("done", 2), f"{done.error}\n{trainers.logs()}"
    assert set(done.answers) == {"base", "finetuned"}
    assert not lease_held(PLAYGROUND_REQUESTS, pk=request.pk, attempt=1).exists()
    _check(trainers, settings)
