"""A DPO LoRA run killed with SIGKILL resumes from its newest complete checkpoint to the adapter
an uninterrupted run trains (as the SFT resume test in test_loop.py, but with a real kill -9 of
the process that trains: nothing after the checkpoint survives but the files)."""

import multiprocessing
import os
import signal

import pytest
import torch

from tests.training.recipe.test_loop import Recorder
from tests.training.recipe.test_preference import make, prefs
from training.recipe.checkpoints import complete_checkpoints, trainable_state
from training.recipe.preference_loop import make_recipe

pytestmark = pytest.mark.slow  # starts a real process and trains three times

KILL_AT = 6  # after the checkpoint of step 4, before the one of step 8

# float32 on CPU, same inputs, same order: only summation order could differ, and does not here.
RTOL, ATOL = 1e-5, 1e-6


class KillSelf(Recorder):
    def on_step(self, step, metrics):
        if step == KILL_AT:
            os.kill(os.getpid(), signal.SIGKILL)


def _train_and_die(config_dict, out_dir, models_dir, pairs):
    from training.recipe.config import TrainConfig

    recipe = make_recipe(
        TrainConfig.from_dict(config_dict),
        out_dir=out_dir,
        models_dir=models_dir,
        reporter=KillSelf(),
    )
    recipe.setup(pairs)
    recipe.train()


def test_it_resumes_a_dpo_run_killed_with_sigkill_to_the_same_adapter(
    tiny_model_dir, tmp_path, records
):
    config = make(tiny_model_dir, epochs=2, checkpoint_interval=4, lora_dropout=0.1, max_seq_len=64)
    pairs = prefs(records)
    whole = make_recipe(config, out_dir=tmp_path / "whole", models_dir=tmp_path / "m")
    whole.setup(pairs)
    assert whole.train().status == "completed" and whole.total_steps > 8
    expected = trainable_state(whole.model)

    child = multiprocessing.get_context("spawn").Process(
        target=_train_and_die,
        args=(config.to_dict(), tmp_path / "resumed", tmp_path / "m", pairs),
    )
    child.start()
    child.join(timeout=300)
    assert child.exitcode == -signal.SIGKILL
    assert [p.name for p in complete_checkpoints(tmp_path / "resumed")] == ["step-4"]

    resumed = make_recipe(config, out_dir=tmp_path / "resumed", models_dir=tmp_path / "m")
    resumed.setup(pairs)
    assert resumed.step == 4
    assert resumed.train().steps == whole.total_steps
    got = trainable_state(resumed.model)
    assert got.keys() == expected.keys()
    for name in expected:
        torch.testing.assert_close(got[name], expected[name], rtol=RTOL, atol=ATOL)
    assert any("lora_B" in n and bool(expected[n].abs().sum()) for n in expected)
