"""The same recipe under torchrun: two gloo processes on CPU equal one process accumulating."""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from training.recipe.checkpoints import trainable_state
from training.recipe.config import TrainConfig
from training.recipe.loop import TrainingRecipe

ROOT = Path(__file__).resolve().parents[3]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_it_trains_with_two_processes_like_one_process_accumulating(
    tiny_model_dir, tmp_path, records
):
    config = {"base_model": str(tiny_model_dir), "epochs": 1, "batch_size": 2, "max_seq_len": 64,
              "learning_rate": 1e-2, "lora_dropout": 0.0, "seed": 3, "eval_interval": 0, "checkpoint_interval": 0}  # fmt: skip
    (tmp_path / "config.json").write_text(json.dumps(config))
    with open(tmp_path / "train.jsonl", "w") as fh:
        for record in records[:16]:
            fh.write(json.dumps(record) + "\n")
    env = dict(os.environ, HF_HUB_OFFLINE="1", OMP_NUM_THREADS="1", PYTHONPATH=str(ROOT))
    torchrun = Path(sys.executable).parent / "torchrun"
    done = subprocess.run(
        [str(torchrun), "--nproc_per_node=2", f"--master_port={free_port()}", "-m", "training.recipe.cli",
         "--config", str(tmp_path / "config.json"), "--train", str(tmp_path / "train.jsonl"),
         "--out", str(tmp_path / "ddp"), "--models-dir", str(tmp_path / "m"), "--lineage", '{"dataset_version_id": 1}'],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    manifest = json.loads((tmp_path / "ddp" / "model" / "manifest.json").read_text())
    assert manifest["world_size"] == 2
    ddp = load_file(tmp_path / "ddp" / "model" / manifest["weights_file"])

    single = TrainingRecipe(
        TrainConfig.from_dict(config | {"gradient_accumulation_steps": 2}),
        out_dir=tmp_path / "one",
        models_dir=tmp_path / "m",
    )
    single.setup(records[:16])
    single.train()
    # peft saves adapter tensors without the adapter's name ("default")
    expected = {n.replace(".default", ""): t for n, t in trainable_state(single.model).items()}
    assert ddp.keys() == expected.keys()
    for name, tensor in expected.items():
        torch.testing.assert_close(ddp[name], tensor, rtol=1e-4, atol=1e-5)


def _cli_args(tmp_path, config: dict, records: list[dict]) -> list[str]:
    (tmp_path / "config.json").write_text(json.dumps(config))
    with open(tmp_path / "train.jsonl", "w") as fh:
        fh.writelines(json.dumps(record) + "\n" for record in records)
    return [
        "--config", str(tmp_path / "config.json"), "--train", str(tmp_path / "train.jsonl"),
        "--validation", str(tmp_path / "train.jsonl"), "--out", str(tmp_path / "out"),
        "--models-dir", str(tmp_path / "m"), "--events", str(tmp_path / "events.jsonl"),
        "--cancel-file", str(tmp_path / "cancel"), "--lineage", '{"training_run_id": 9}',
    ]  # fmt: skip


def test_it_writes_progress_events_and_the_model(tiny_model_dir, tmp_path, records):
    from training.recipe import artifacts, cli
    from training.recipe.events import EventReader

    config = {"base_model": str(tiny_model_dir), "epochs": 1, "batch_size": 2, "max_seq_len": 64,
              "eval_interval": 2, "checkpoint_interval": 0, "lora_r": 4}  # fmt: skip
    assert cli.main(_cli_args(tmp_path, config, records[:6])) == 0
    found = EventReader(tmp_path / "events.jsonl").read()
    kinds = [e["event"] for e in found if e["event"] != "heartbeat"]
    assert kinds[:2] == ["plan", "start"] and kinds[-3:] == ["phase", "log", "done"]
    assert [e["step"] for e in found if e["event"] == "step"] == [1, 2, 3]
    assert [e["step"] for e in found if e["event"] == "eval"] == [2, 3]
    plan = found[0]
    assert plan["plan"]["total_steps"] == 3 and plan["resume_step"] == 0
    assert plan["device"] == "cpu" and plan["world_size"] == 1 and plan["library_versions"]
    assert found[-1] == {"event": "done", "status": "completed", "steps": 3}
    manifest = artifacts.read_manifest(tmp_path / "out" / "model")
    assert manifest["lineage"] == {"training_run_id": 9}


def test_it_stops_when_the_cancel_file_exists_and_reports_refusals(
    tiny_model_dir, tmp_path, records
):
    from training.recipe import cli
    from training.recipe.events import EventReader

    config = {"base_model": str(tiny_model_dir), "batch_size": 2, "max_seq_len": 64}
    (tmp_path / "cancel").touch()
    assert cli.main(_cli_args(tmp_path, config, records[:4])) == cli.EXIT_CANCELLED
    found = EventReader(tmp_path / "events.jsonl").read()
    assert found[-1] == {"event": "done", "status": "cancelled", "steps": 0}
    assert not (tmp_path / "out" / "model").exists()

    refused = tmp_path / "refused"
    refused.mkdir()
    args = _cli_args(refused, config | {"max_seq_len": 16}, records[:4])
    assert cli.main(args) == cli.EXIT_REFUSED
    error = EventReader(refused / "events.jsonl").read()[-1]
    assert error["event"] == "error" and error["kind"] == "ValueError" and error["rank"] == 0
    assert error["message"].startswith("no training example is left")
