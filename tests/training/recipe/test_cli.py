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
