"""A run across processes: with FINETUNEDB_TRAINING_PROCESSES=2 the worker trains the tiny model
under torchrun with two gloo processes on CPU, forwarding their progress to the run row."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from training.models import ModelArtifact, RunStatus, TrainingRun
from training.recipe import artifacts
from training.services import distributed, execute
from training.services.base_models import models_dir, run_dir

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def queued_run(queued_run, training_settings, monkeypatch):
    """The tiny model's queued run, trained by two gloo processes under torchrun."""
    training_settings.FINETUNEDB_TRAINING_PROCESSES = "2"
    monkeypatch.delenv("FINETUNEDB_FAULTS", raising=False)
    return queued_run


@pytest.mark.slow
def test_it_trains_a_run_in_two_processes(queued_run, version):
    run = queued_run()
    execute.training_run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED, run.failure_reason
    # 8 train examples / (batch 2 × 2 processes) × 2 epochs
    assert run.step == run.total_steps == 4
    assert [p["step"] for p in run.metrics] == [1, 2, 3, 4]
    assert all(p["loss"] > 0 and p["tokens_per_s"] > 0 for p in run.metrics)
    assert [p["step"] for p in run.evals] == [2, 4]
    assert run.device == "cpu" and run.library_versions["torch"]
    assert run.plan["total_steps"] == 4
    assert any("training with 2 processes" in line for line in run.log_tail)
    assert any("model saved" in line for line in run.log_tail)

    model = ModelArtifact.objects.get(run=run)
    folder = models_dir() / model.path
    assert artifacts.verify(folder) and model.manifest == artifacts.read_manifest(folder)
    assert model.manifest["world_size"] == 2
    assert model.manifest["lineage"]["dataset_version_hash"] == version.content_hash
    assert model.manifest["lineage"]["training_run_id"] == run.pk
    assert "(× 2)" in model.model_card
    assert not (run_dir(run.pk) / "checkpoints").exists()
    assert not (run_dir(run.pk) / "launch" / "train.jsonl").exists()


@pytest.mark.slow
def test_it_cancels_the_processes_through_the_cancel_file(queued_run, monkeypatch, cancel_at_step):
    # Each checkpoint (steps 2, 4, 6) pauses the processes: time for the cancel to reach them.
    monkeypatch.setenv("FINETUNEDB_FAULTS", "train.mid_checkpoint_save=delay:1.5")
    run = queued_run(epochs=4)
    cancel_at_step(1)
    execute.training_run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == RunStatus.CANCELLED, run.failure_reason
    assert 1 <= run.step < run.total_steps == 8
    assert any("cancelled before step" in line for line in run.log_tail)
    assert not ModelArtifact.objects.exists()


@pytest.mark.slow
def test_it_fails_with_the_last_lines_of_crashed_processes(queued_run, monkeypatch):
    monkeypatch.setenv("FINETUNEDB_FAULTS", "train.mid_checkpoint_save=raise")
    run = queued_run()
    execute.training_run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED and run.finished_at is not None
    assert run.failure_reason.startswith("The training processes failed")
    assert "fault injected at train.mid_checkpoint_save" in run.failure_reason
    assert "failed: The training processes failed" in run.log_tail[-1]
    log = (run_dir(run.pk) / distributed.LOG_NAME).read_text()
    assert "FaultInjected" in log
    assert not ModelArtifact.objects.exists()


@pytest.mark.slow
def test_it_fails_with_the_recipes_own_message(queued_run):
    run = queued_run(max_seq_len=16)
    execute.training_run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED
    assert run.failure_reason.startswith("no training example is left")


def test_it_resolves_the_number_of_processes(settings, monkeypatch):
    import torch

    settings.FINETUNEDB_TRAINING_DEVICE = ""
    settings.FINETUNEDB_TRAINING_PROCESSES = "auto"
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 4)
    assert distributed.training_processes() == 4
    settings.FINETUNEDB_TRAINING_DEVICE = "cuda:1"
    assert distributed.training_processes() == 1
    settings.FINETUNEDB_TRAINING_DEVICE = ""
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 0)
    assert distributed.training_processes() == 1
    settings.FINETUNEDB_TRAINING_PROCESSES = "3"
    assert distributed.training_processes() == 3
    for bad in ("0", "two", "-1", ""):
        settings.FINETUNEDB_TRAINING_PROCESSES = bad
        with pytest.raises(ImproperlyConfigured, match="FINETUNEDB_TRAINING_PROCESSES"):
            distributed.training_processes()


def test_it_refuses_a_bad_setting_at_startup():
    env = dict(os.environ, FINETUNEDB_TRAINING_PROCESSES="many", PYTHONPATH=str(ROOT))
    done = subprocess.run(
        [sys.executable, "-c", "import finetunedb.settings.base"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode != 0
    assert "ImproperlyConfigured" in done.stderr and "'many'" in done.stderr


PARENT = """
import json, os, sys, time, django
django.setup()
from pathlib import Path
from training.services import distributed
files = {k: Path(v) for k, v in json.loads(sys.argv[1]).items()}
command = distributed.cli_command(processes=2, files=files, out_dir=Path(sys.argv[2]),
    models_dir=Path(sys.argv[3]), lineage={}, device="cpu")
proc = distributed.spawn(command, cwd=Path.cwd(), env=distributed.cli_env("cpu"))
for line in proc.stdout:
    pass
"""


def _processes_naming(marker: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and marker in (entry / "cmdline").read_text():
                found.append(int(entry.name))
        except OSError:
            continue
    return found


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_it_leaves_no_process_behind_when_the_worker_is_killed(
    training_settings, tiny_model_dir, tiny_hyperparameters, tmp_path
):
    from tests.training.conftest import chat

    config = {
        "base_model": str(tiny_model_dir),
        **tiny_hyperparameters,
        "epochs": 20,
    }  # the bound; the fault delay keeps it running
    inputs = distributed._write_inputs(
        tmp_path / "launch", config, [{"messages": chat(i)} for i in range(8)], []
    )
    out = tmp_path / "out-of-the-killed-worker"
    env = dict(
        os.environ,
        DJANGO_SETTINGS_MODULE="finetunedb.settings.test",
        PYTHONPATH=str(ROOT),
        FINETUNEDB_FAULTS="train.mid_checkpoint_save=delay:30",
    )
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT,
         json.dumps({k: str(v) for k, v in inputs.items()}), str(out), str(tmp_path / "m")],
        cwd=ROOT, env=env,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while not (out / "checkpoints").exists():  # both ranks are training: step 2 reached
            assert time.monotonic() < deadline and parent.poll() is None, "never started"
            time.sleep(0.1)
        # the torchrun agent and two ranks, besides the worker
        assert len(set(_processes_naming(str(out))) - {parent.pid}) == 3
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait()
        deadline = time.monotonic() + 10
        while _processes_naming(str(out)) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _processes_naming(str(out)) == []
    finally:
        for pid in _processes_naming(str(out)):
            os.kill(pid, signal.SIGKILL)
        if parent.poll() is None:
            parent.kill()


@pytest.mark.slow
def test_it_trains_a_chained_dpo_run_in_two_processes(
    api_for, owner, version, make_example, team, training_settings, tiny_model_dir, monkeypatch
):
    """SFT trained in the worker, then DPO on its pairs under torchrun from that SFT model: the
    parent's folder reaches every rank (the figures' reduction over ranks is the recipe test's,
    tests/training/recipe/test_preference_distributed.py)."""
    from datasets_app.services.versions import dataset_version_freeze
    from tests.factories import DatasetFactory
    from tests.training.test_preference_chain import HYPER
    from tests.training.test_preference_runs import SPLITS, pair
    from training.services import runs

    monkeypatch.setattr(runs, "training_run_enqueue", lambda run_id: None)
    monkeypatch.setattr(execute, "model_evaluate_enqueue", lambda model_id: None)
    monkeypatch.delenv("FINETUNEDB_FAULTS", raising=False)
    prefs = DatasetFactory(team=team, name="prefs", created_by=owner)
    for i, split in enumerate(SPLITS):
        messages, metadata = pair(i)
        make_example(prefs, owner, messages, metadata=metadata, split=split)
    pairs_version = dataset_version_freeze(user=owner, dataset=prefs, name="pairs")
    api = api_for(owner)
    sft = api.post(
        f"/api/v1/versions/{version.pk}/training-runs/",
        {"base_model": str(tiny_model_dir), "hyperparameters": HYPER},
        format="json",
    ).json()
    execute.training_run_execute(run_id=sft["id"])
    parent = ModelArtifact.objects.get(run_id=sft["id"])

    training_settings.FINETUNEDB_TRAINING_PROCESSES = "2"
    body = {"method": "dpo", "start_from_model": parent.pk,
            "hyperparameters": {**HYPER, "batch_size": 2, "eval_interval": 1}}  # fmt: skip
    launched = api.post(f"/api/v1/versions/{pairs_version.pk}/training-runs/", body, format="json")
    assert launched.status_code == 201, launched.json()
    run = TrainingRun.objects.get(pk=launched.json()["id"])
    execute.training_run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED, run.failure_reason
    assert any("training with 2 processes" in line for line in run.log_tail)
    # 8 pairs / (2 pairs × 2 processes) × 1 epoch
    assert run.plan["pairs"] == 8 and run.step == run.total_steps == 2
    assert [p["step"] for p in run.metrics] == [1, 2]
    assert all(0.0 <= p["reward_accuracy"] <= 1.0 and p["loss"] > 0 for p in run.metrics)
    assert [e["step"] for e in run.evals] == [1, 2] and run.evals[0]["eval_pairs"] == 2
    model = ModelArtifact.objects.get(run=run)
    assert model.manifest["world_size"] == 2 and model.manifest["method"] == "dpo"
    assert model.manifest["lineage"]["start_from"] == f"../../{parent.run_id}/model"
    assert model.manifest["lineage"]["parent_model_id"] == parent.pk
