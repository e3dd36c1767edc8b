"""Through the app on a GPU: the pre-flight memory estimate against the measured peak, and a
run across two GPUs under torchrun. Skipped without CUDA (two GPUs for torchrun)."""

from __future__ import annotations

import pytest
import torch

from training.models import ModelArtifact, RunStatus
from training.recipe.loop import TrainingRecipe
from training.services import execute
from training.services.preflight import training_run_budget_require

from ..conftest import queued_run, training_settings  # noqa: F401
from .conftest import requires_cuda, requires_two_gpus
from .test_recipe_on_gpu import MEMORY_FACTOR, make

pytestmark = [pytest.mark.django_db, requires_cuda]


def test_it_estimates_the_memory_peak_within_a_factor(
    training_settings,  # noqa: F811
    tiny_model_dir,
    records,
    tmp_path,
):
    training_settings.FINETUNEDB_TRAINING_DEVICE = "cuda"
    config = make(tiny_model_dir, batch_size=8, max_seq_len=256, epochs=1)
    estimate = training_run_budget_require(config=config, train=records, validation=[])
    assert estimate["device"] == "cuda"
    torch.cuda.empty_cache()
    torch.cuda.reset_peak_memory_stats()
    recipe = TrainingRecipe(config, out_dir=tmp_path, models_dir=tmp_path / "m", device="cuda")
    recipe.setup(records)
    recipe.train()
    peak = torch.cuda.max_memory_allocated()
    ratio = peak / estimate["memory_bytes"]
    print(
        f"memory estimate {estimate['memory_bytes']} B, measured peak {peak} B, ratio {ratio:.2f}"
    )
    assert 1 / MEMORY_FACTOR <= ratio <= MEMORY_FACTOR


@requires_two_gpus
@pytest.mark.slow
def test_it_trains_a_run_on_two_gpus_under_torchrun(
    queued_run,  # noqa: F811
    training_settings,  # noqa: F811
):
    training_settings.FINETUNEDB_TRAINING_PROCESSES = "2"
    training_settings.FINETUNEDB_TRAINING_DEVICE = ""
    run = queued_run()
    execute.training_run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED, run.failure_reason
    assert run.device.startswith("cuda")
    assert all(p["loss"] > 0 for p in run.metrics)
    assert ModelArtifact.objects.get(run=run).manifest["world_size"] == 2
