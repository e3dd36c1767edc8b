"""DPO and ORPO under torchrun: two gloo processes on CPU, each taking half of every step's pairs,
give the gradients and the step figures of one process accumulating the same global batch.

Each run records the gradient the optimizer steps with at every step (after DDP's all-reduce on
rank 0), the step metrics and the adapter it ends with. With batch_size 2, two processes take
batches 2k and 2k + 1 of an epoch at step k, exactly the two micro-batches one process with
gradient_accumulation_steps 2 takes: the same pairs, only the order of the sums differs.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from tests.training.recipe.test_cli import free_port
from tests.training.recipe.test_preference import prefs

pytestmark = pytest.mark.slow  # starts torchrun and two ranks per case

ROOT = Path(__file__).resolve().parents[3]
# float32 on CPU. Measured: bit-equal (gradients, figures and weights; |g| up to 0.26), because
# the scales are powers of two and two halves are one addition whether gloo or autograd's
# accumulation adds them. The tolerance is the SFT DDP test's, for other orders of summation
# (more processes, GPU reductions): rounding only, never a different batch or a missing term.
RTOL, ATOL = 1e-4, 1e-6
STEPS = 3
FIGURES = ("loss", "rewards_chosen", "rewards_rejected", "reward_margin", "reward_accuracy")

CAPTURE = """
import json, sys, torch
from training.recipe.config import TrainConfig
from training.recipe.preference_loop import make_recipe
config, train, out, models = sys.argv[1:5]
records = [json.loads(line) for line in open(train)]
recipe = make_recipe(TrainConfig.from_dict(json.load(open(config))), out_dir=out,
                     models_dir=models, device="cpu")
recipe.setup(records, records[:4])
grads, step = [], recipe.optimizer.step
def capture(*args, **kwargs):
    grads.append({n: p.grad.detach().clone() for n, p in recipe.model.named_parameters()
                  if p.requires_grad})
    return step(*args, **kwargs)
recipe.optimizer.step = capture
result = recipe.train()
if recipe.rank == 0:
    trained = {n: p.detach().clone() for n, p in recipe.model.named_parameters() if p.requires_grad}
    torch.save({"grads": grads, "history": result.history, "evals": result.evals,
                "trained": trained, "world_size": recipe.world_size,
                "reference_copy": recipe.reference is not None}, out + "/captured.pt")
if recipe.distributed:  # as the cli ends: no rank exits with gloo's threads still running
    recipe.group.barrier()
    torch.distributed.destroy_process_group()
"""


def _run(tmp_path: Path, name: str, config: dict, *, processes: int) -> dict:
    folder = tmp_path / name
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps(config))
    script = folder / "capture.py"
    script.write_text(CAPTURE)
    env = dict(os.environ, HF_HUB_OFFLINE="1", OMP_NUM_THREADS="1", PYTHONPATH=str(ROOT))
    env.pop("WORLD_SIZE", None)
    launcher = [sys.executable]
    if processes > 1:
        launcher += ["-m", "torch.distributed.run", f"--nproc_per_node={processes}",
                     f"--master_port={free_port()}"]  # fmt: skip
    done = subprocess.run(
        [*launcher, str(script), str(folder / "config.json"), str(tmp_path / "train.jsonl"),
         str(folder), str(tmp_path / "m")],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return torch.load(folder / "captured.pt")


@pytest.mark.parametrize(
    "method, weights",
    [("dpo", "lora"), ("orpo", "lora"), ("dpo", "full")],
)
def test_it_trains_a_preference_run_in_two_processes_like_one_accumulating(
    tiny_model_dir, tmp_path, records, method, weights
):
    with open(tmp_path / "train.jsonl", "w") as fh:
        fh.writelines(json.dumps(pair) + "\n" for pair in prefs(records)[:16])
    config = {"base_model": str(tiny_model_dir), "method": method, "preference_weights": weights,
              "batch_size": 2, "max_steps": STEPS, "max_seq_len": 64, "learning_rate": 5e-3,
              "lora_dropout": 0.0, "lora_r": 4, "lora_alpha": 8, "seed": 3, "warmup_ratio": 0.0,
              "eval_interval": 2, "checkpoint_interval": 0, "dpo_beta": 0.5, "orpo_beta": 0.5}  # fmt: skip
    ddp = _run(tmp_path, "ddp", config, processes=2)
    one = _run(tmp_path, "one", config | {"gradient_accumulation_steps": 2}, processes=1)

    assert ddp["world_size"] == 2 and one["world_size"] == 1
    assert ddp["reference_copy"] is (method == "dpo" and weights == "full")
    assert len(ddp["grads"]) == len(one["grads"]) == STEPS
    for step, (got, expected) in enumerate(zip(ddp["grads"], one["grads"], strict=True), 1):
        assert got.keys() == expected.keys()
        moved = [n for n, g in expected.items() if g.abs().max() > 0]
        assert moved, f"step {step}: no gradient at all"
        for name in expected:
            torch.testing.assert_close(
                got[name], expected[name], rtol=RTOL, atol=ATOL, msg=f"step {step} {name}"
            )
    # the step figures are reduced over both processes: the whole global batch's
    for got, expected in zip(ddp["history"], one["history"], strict=True):
        assert got["pairs"] == expected["pairs"] == 4
        assert got["trained_tokens"] == expected["trained_tokens"]
        for key in FIGURES:
            assert got[key] == pytest.approx(expected[key], rel=RTOL, abs=ATOL), key
    # validation pairs are scored by rank 0 alone, as one process scores them
    assert [e["step"] for e in ddp["evals"]] == [e["step"] for e in one["evals"]] == [2, 3]
    for got, expected in zip(ddp["evals"], one["evals"], strict=True):
        assert got["eval_pairs"] == expected["eval_pairs"] == 4
        for key in FIGURES:
            assert got[f"eval_{key}"] == pytest.approx(expected[f"eval_{key}"], rel=RTOL, abs=ATOL)
    for name, tensor in one["trained"].items():
        torch.testing.assert_close(ddp["trained"][name], tensor, rtol=RTOL, atol=ATOL)
