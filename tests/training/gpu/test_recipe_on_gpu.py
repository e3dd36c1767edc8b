"""The recipe on a GPU: bf16 LoRA and full runs, resume in bf16, out of memory, and the
pre-flight memory estimate against the measured peak. Skipped without CUDA."""

from __future__ import annotations

import math

import pytest
import torch

from training.recipe.checkpoints import complete_checkpoints, trainable_state
from training.recipe.config import TrainConfig
from training.recipe.loop import TrainingRecipe
from training.recipe.reporter import NullReporter, TrainingOutOfMemory

from .conftest import requires_cuda

pytestmark = requires_cuda
# Resumed vs uninterrupted adapter weights in bf16 (adapters are kept in fp32 by peft, the base
# and activations are bf16, and CUDA reductions are not bitwise deterministic).
RESUME_RTOL, RESUME_ATOL = 2e-2, 2e-3
# measured peak / estimate must lie within [1/FACTOR, FACTOR]
MEMORY_FACTOR = 3.0


def make(tiny_model_dir, **overrides) -> TrainConfig:
    values = {
        "base_model": str(tiny_model_dir),
        "epochs": 3,
        "batch_size": 4,
        "max_seq_len": 128,
        "learning_rate": 2e-2,
        "eval_interval": 0,
        "checkpoint_interval": 0,
        "lora_dropout": 0.0,
        "seed": 7,
    } | overrides
    return TrainConfig.from_dict(values)


class Crash(NullReporter):
    def __init__(self, at: int):
        self.at = at

    def on_step(self, step, metrics):
        if step == self.at:
            raise KeyboardInterrupt("simulated kill")


def _falling(result) -> list[float]:
    losses = [point["loss"] for point in result.history]
    assert all(math.isfinite(loss) for loss in losses), losses
    assert sum(losses[-2:]) / 2 < sum(losses[:2]) / 2, losses
    return losses


def test_it_trains_lora_in_bf16_moving_only_the_adapter(tiny_model_dir, tmp_path, records):
    recipe = TrainingRecipe(make(tiny_model_dir), out_dir=tmp_path, models_dir=tmp_path / "m")
    recipe.setup(records)
    assert recipe.device.type == "cuda"
    base = {n: p.detach().clone() for n, p in recipe.model.named_parameters() if "lora_" not in n}
    lora_b = {n: p.detach().clone() for n, p in recipe.model.named_parameters() if "lora_B" in n}
    assert all(p.dtype == torch.bfloat16 for p in base.values())
    _falling(recipe.train())
    after = dict(recipe.model.named_parameters())
    assert all(torch.equal(base[n], after[n]) for n in base)
    assert all(not torch.equal(lora_b[n], after[n]) for n in lora_b)
    assert recipe.history[-1]["memory_mb"] > 0


def test_it_trains_all_weights_in_bf16(tiny_model_dir, tmp_path, records):
    config = make(tiny_model_dir, method="full", learning_rate=1e-3)
    recipe = TrainingRecipe(config, out_dir=tmp_path, models_dir=tmp_path / "m")
    recipe.setup(records)
    before = {n: p.detach().clone() for n, p in recipe.model.named_parameters()}
    _falling(recipe.train())
    after = dict(recipe.model.named_parameters())
    # Every matrix moves. (Norm weights near 1.0 may not: bf16's spacing there is 2^-7, and the
    # recipe keeps no fp32 master copy, so an update below ~4e-3 rounds away.)
    matrices = [n for n in before if n.endswith("proj.weight")]
    assert matrices and all(not torch.equal(before[n], after[n]) for n in matrices)


def test_it_resumes_in_bf16_like_an_uninterrupted_run(tiny_model_dir, tmp_path, records):
    config = make(tiny_model_dir, checkpoint_interval=4)
    whole = TrainingRecipe(config, out_dir=tmp_path / "whole", models_dir=tmp_path / "m")
    whole.setup(records)
    whole.train()
    expected = trainable_state(whole.model)

    killed = TrainingRecipe(
        config, out_dir=tmp_path / "resumed", models_dir=tmp_path / "m", reporter=Crash(6)
    )
    killed.setup(records)
    with pytest.raises(KeyboardInterrupt):
        killed.train()
    assert [p.name for p in complete_checkpoints(tmp_path / "resumed")] == ["step-4"]
    resumed = TrainingRecipe(config, out_dir=tmp_path / "resumed", models_dir=tmp_path / "m")
    resumed.setup(records)
    assert resumed.step == 4
    resumed.train()
    got = trainable_state(resumed.model)
    for name in expected:
        torch.testing.assert_close(
            got[name].float(), expected[name].float(), rtol=RESUME_RTOL, atol=RESUME_ATOL
        )


def test_it_ends_an_out_of_memory_run_with_the_reason_and_a_suggestion(
    tiny_model_dir, tmp_path, records
):
    config = make(tiny_model_dir, method="full", batch_size=64, max_seq_len=512, epochs=1)
    recipe = TrainingRecipe(config, out_dir=tmp_path, models_dir=tmp_path / "m")
    recipe.setup(records * 4)
    # A huge batch alone does not fill an 80 GB card with a 2-layer model: cap this process at
    # what the weights already hold plus 1 MiB, so the first step's activations cannot fit.
    total = torch.cuda.get_device_properties(recipe.device).total_memory
    held = torch.cuda.memory_reserved(recipe.device)
    torch.cuda.set_per_process_memory_fraction((held + 2**20) / total, recipe.device)
    try:
        with pytest.raises(TrainingOutOfMemory, match="ran out of memory") as caught:
            recipe.train()
    finally:
        torch.cuda.set_per_process_memory_fraction(1.0, recipe.device)
        torch.cuda.empty_cache()
    assert "smaller batch_size" in str(caught.value)
    assert "gradient_accumulation_steps" in str(caught.value)
