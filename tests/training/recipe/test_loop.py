import pytest
import torch
from safetensors.torch import load_file

from training.recipe.checkpoints import complete_checkpoints, trainable_state
from training.recipe.config import TrainConfig
from training.recipe.loop import TrainingRecipe
from training.recipe.reporter import NullReporter


def make(tiny_model_dir, tmp_path, **overrides):
    values = {
        "base_model": str(tiny_model_dir),
        "epochs": 2,
        "batch_size": 4,
        "max_seq_len": 128,
        "learning_rate": 1e-2,
        "eval_interval": 0,
        "checkpoint_interval": 0,
        "seed": 7,
    } | overrides
    return TrainConfig.from_dict(values)


class Recorder(NullReporter):
    def __init__(self, cancel_at=None, crash_at=None):
        self.steps, self.evals, self.beats = [], [], 0
        self.cancel_at, self.crash_at = cancel_at, crash_at

    def on_step(self, step, metrics):
        self.steps.append((step, metrics))
        if step == self.crash_at:
            raise KeyboardInterrupt("simulated kill")

    def on_eval(self, step, metrics):
        self.evals.append((step, metrics))

    def should_cancel(self):
        return self.cancel_at is not None and len(self.steps) >= self.cancel_at

    def heartbeat(self):
        self.beats += 1


def base_weights(model):
    return {n: p.detach().clone() for n, p in model.named_parameters() if "lora_" not in n}


def test_it_changes_only_lora_weights(tiny_model_dir, tmp_path, records):
    recipe = TrainingRecipe(
        make(tiny_model_dir, tmp_path), out_dir=tmp_path, models_dir=tmp_path / "m"
    )
    recipe.setup(records)
    before_base = base_weights(recipe.model)
    before_lora = {
        n: p.detach().clone() for n, p in recipe.model.named_parameters() if "lora_B" in n
    }
    assert recipe.train().status == "completed"
    after = dict(recipe.model.named_parameters())
    assert all(torch.equal(before_base[n], after[n]) for n in before_base)
    assert all(not torch.equal(before_lora[n], after[n]) for n in before_lora)
    assert set(trainable_state(recipe.model)) == {n for n in after if "lora_" in n}


def test_it_reports_progress_and_lowers_the_loss(tiny_model_dir, tmp_path, records):
    reporter = Recorder()
    recipe = TrainingRecipe(
        make(tiny_model_dir, tmp_path, epochs=4, eval_interval=5),
        out_dir=tmp_path,
        models_dir=tmp_path / "m",
        reporter=reporter,
    )
    plan = recipe.setup(records, records[:4])
    result = recipe.train()
    assert [s for s, _ in reporter.steps] == list(range(1, plan["total_steps"] + 1))
    assert reporter.steps[-1][1]["loss"] < reporter.steps[0][1]["loss"]
    assert {"loss", "lr", "tokens_per_s", "memory_mb"} <= set(reporter.steps[0][1])
    total = plan["total_steps"]
    assert [s for s, _ in reporter.evals] == [*range(5, total, 5), total]
    assert reporter.beats >= plan["total_steps"]
    assert result.evals[-1]["eval_loss"] < result.evals[0]["eval_loss"]


def test_it_trains_every_weight_under_full_fine_tuning(tiny_model_dir, tmp_path, records):
    recipe = TrainingRecipe(
        make(tiny_model_dir, tmp_path, method="full", max_steps=2),
        out_dir=tmp_path,
        models_dir=tmp_path / "m",
    )
    recipe.setup(records)
    before = base_weights(recipe.model)
    recipe.train()
    after = dict(recipe.model.named_parameters())
    assert not torch.equal(
        before["model.layers.0.self_attn.q_proj.weight"],
        after["model.layers.0.self_attn.q_proj.weight"],
    )


def test_it_stops_cleanly_when_cancelled(tiny_model_dir, tmp_path, records):
    reporter = Recorder(cancel_at=2)
    recipe = TrainingRecipe(
        make(tiny_model_dir, tmp_path, checkpoint_interval=1),
        out_dir=tmp_path,
        models_dir=tmp_path / "m",
        reporter=reporter,
    )
    recipe.setup(records)
    result = recipe.train()
    assert (result.status, result.steps) == ("cancelled", 2)
    assert not (tmp_path / "model").exists()
    assert [p.name for p in complete_checkpoints(tmp_path)] == ["step-1", "step-2"]


def test_it_resumes_a_killed_run_to_the_same_adapter(tiny_model_dir, tmp_path, records):
    config = make(
        tiny_model_dir,
        tmp_path,
        epochs=3,
        checkpoint_interval=4,
        lora_dropout=0.1,
        max_seq_len=64,
        packing=False,
    )
    whole = TrainingRecipe(config, out_dir=tmp_path / "whole", models_dir=tmp_path / "m")
    whole.setup(records)
    whole.train()
    expected = trainable_state(whole.model)

    killed = TrainingRecipe(
        config,
        out_dir=tmp_path / "resumed",
        models_dir=tmp_path / "m",
        reporter=Recorder(crash_at=6),
    )
    killed.setup(records)
    with pytest.raises(KeyboardInterrupt):
        killed.train()
    assert [p.name for p in complete_checkpoints(tmp_path / "resumed")] == ["step-4"]

    resumed = TrainingRecipe(config, out_dir=tmp_path / "resumed", models_dir=tmp_path / "m")
    resumed.setup(records)
    assert resumed.step == 4
    result = resumed.train()
    assert result.steps == whole.total_steps
    got = trainable_state(resumed.model)
    assert got.keys() == expected.keys()
    for name in expected:
        torch.testing.assert_close(got[name], expected[name], rtol=1e-5, atol=1e-6)
    assert not torch.equal(expected[next(n for n in expected if "lora_B" in n)], torch.zeros(1))


def test_it_saves_an_adapter_whose_weights_match_the_trained_model(
    tiny_model_dir, tmp_path, records
):
    recipe = TrainingRecipe(
        make(tiny_model_dir, tmp_path, max_steps=2), out_dir=tmp_path, models_dir=tmp_path / "m"
    )
    recipe.setup(records)
    recipe.train()
    manifest = recipe.save(lineage={"dataset_version_id": 3, "dataset_version_hash": "f" * 64})
    saved = load_file(tmp_path / "model" / manifest["weights_file"])
    trained = trainable_state(recipe.model)
    assert len(saved) == len(trained)
    assert all(any(torch.equal(v, t) for t in trained.values()) for v in saved.values())


@pytest.mark.parametrize("method", ["lora", "full"])
def test_it_trains_the_same_weights_with_gradient_checkpointing(
    tiny_model_dir, tmp_path, records, method
):
    """Recomputing activations must change memory only: same losses, same weights (dropout
    included: the recomputation replays its random state)."""
    results = {}
    for setting in ("on", "off"):
        config = make(tiny_model_dir, tmp_path, method=method, max_steps=3, lora_dropout=0.1,
                      gradient_checkpointing=setting)  # fmt: skip
        recipe = TrainingRecipe(config, out_dir=tmp_path / setting, models_dir=tmp_path / "m")
        plan = recipe.setup(records)
        assert plan["gradient_checkpointing"] is (setting == "on")
        assert recipe.model.is_activation_checkpointing is (setting == "on")
        result = recipe.train()
        losses = [h["loss"] for h in result.history]
        results[setting] = (losses, trainable_state(recipe.model))
    (losses_on, state_on), (losses_off, state_off) = results["on"], results["off"]
    assert losses_on == pytest.approx(losses_off, rel=1e-5)
    assert state_on.keys() == state_off.keys()
    for name, tensor in state_on.items():
        torch.testing.assert_close(tensor, state_off[name], atol=1e-5, rtol=1e-4)


def test_it_checkpoints_activations_on_cpu_by_default(tiny_model_dir, tmp_path):
    recipe = TrainingRecipe(make(tiny_model_dir, tmp_path), out_dir=tmp_path, models_dir=tmp_path)
    assert recipe.config.gradient_checkpointing == "auto" and recipe.checkpointing
