"""DPO and ORPO: losses against the published formulas, pair encoding, and short real runs."""

import math

import pytest
import torch

from tests.training.recipe.test_loop import Recorder, base_weights
from training.recipe.config import ConfigError, TrainConfig
from training.recipe.data import IGNORE
from training.recipe.preference import (
    collate_pairs,
    dpo_loss,
    encode_pairs,
    orpo_loss,
    pair_records,
    reward_metrics,
)
from training.recipe.preference_eval import _logps, pair_scores
from training.recipe.preference_loop import PreferenceRecipe, make_recipe

# Fixed log-probabilities of three pairs: policy chosen/rejected, reference chosen/rejected.
PC, PR = [-4.0, -7.5, -2.0], [-6.0, -7.0, -9.0]
RC, RR = [-5.0, -7.0, -3.0], [-5.5, -7.2, -8.0]


def _sigmoid(x):
    return 1 / (1 + math.exp(-x))


def _t(values):
    return torch.tensor(values, dtype=torch.float64)


@pytest.mark.parametrize("beta, smoothing", [(0.1, 0.0), (0.5, 0.0), (0.3, 0.2)])
def test_it_computes_the_sigmoid_dpo_loss_of_the_paper(beta, smoothing):
    losses, chosen, rejected = dpo_loss(
        _t(PC), _t(PR), _t(RC), _t(RR), beta=beta, label_smoothing=smoothing
    )
    for i in range(3):
        h = (PC[i] - PR[i]) - (RC[i] - RR[i])
        expected = -(1 - smoothing) * math.log(_sigmoid(beta * h)) - smoothing * math.log(
            _sigmoid(-beta * h)
        )
        assert float(losses[i]) == pytest.approx(expected, rel=1e-9)
        assert float(chosen[i]) == pytest.approx(beta * (PC[i] - RC[i]))
        assert float(rejected[i]) == pytest.approx(beta * (PR[i] - RR[i]))


def test_it_computes_the_ipo_loss_of_the_paper():
    beta = 0.25
    losses, _, _ = dpo_loss(_t(PC), _t(PR), _t(RC), _t(RR), beta=beta, loss_type="ipo")
    for i in range(3):
        h = (PC[i] - PR[i]) - (RC[i] - RR[i])
        assert float(losses[i]) == pytest.approx((h - 1 / (2 * beta)) ** 2, rel=1e-9)


def test_it_computes_the_orpo_loss_of_the_paper():
    chosen_mean, rejected_mean, nll = [-0.4, -1.2, -2.0], [-0.9, -0.8, -3.0], [0.4, 1.2, 2.0]
    lam = 0.2
    losses, rc, rr = orpo_loss(_t(chosen_mean), _t(rejected_mean), _t(nll), beta=lam)
    for i in range(3):
        pc, pr = math.exp(chosen_mean[i]), math.exp(rejected_mean[i])
        log_odds = math.log(pc / (1 - pc)) - math.log(pr / (1 - pr))
        expected = nll[i] - lam * math.log(_sigmoid(log_odds))
        assert float(losses[i]) == pytest.approx(expected, rel=1e-9)
        assert float(rc[i]) == pytest.approx(lam * chosen_mean[i])
        assert float(rr[i]) == pytest.approx(lam * rejected_mean[i])


def test_it_reports_reward_margin_and_accuracy():
    metrics = reward_metrics(
        torch.tensor([1.0, 0.0, 2.0, -1.0]), torch.tensor([0.0, 1.0, 1.0, 0.0])
    )
    assert metrics == {
        "rewards_chosen": 0.5,
        "rewards_rejected": 0.5,
        "reward_margin": 0.0,
        "reward_accuracy": 0.5,
    }


def test_it_rejects_bad_preference_settings_naming_the_field():
    with pytest.raises(ConfigError, match="dpo_beta"):
        TrainConfig.from_dict({"method": "dpo", "dpo_beta": 0})
    with pytest.raises(ConfigError, match="dpo_loss_type"):
        TrainConfig.from_dict({"method": "dpo", "dpo_loss_type": "hinge"})
    with pytest.raises(ConfigError, match="dpo_label_smoothing"):
        TrainConfig.from_dict({"method": "dpo", "dpo_loss_type": "ipo", "dpo_label_smoothing": 0.1})
    with pytest.raises(ConfigError, match="method"):
        TrainConfig.from_dict({"method": "ppo"})
    assert all(TrainConfig.help_texts()[name] for name in ("dpo_beta", "orpo_beta"))


def prefs(records):
    out = []
    for i, r in enumerate(records):
        wrong = f"I think it is {100 + i}, or maybe not."
        out.append({"id": i, **r, "rejected": [{"role": "assistant", "content": wrong}]})
    return out


def test_it_renders_both_sides_with_the_sft_labels(tokenizer, records):
    pairs = encode_pairs(prefs(records)[:3], tokenizer, max_seq_len=512)
    assert len(pairs.pairs) == 3
    chosen_record, rejected_record = pair_records(prefs(records)[0])
    assert rejected_record["messages"][:-1] == chosen_record["messages"][:-1]
    p = pairs.pairs[0]
    # the prompt tokens are shared and never labelled; only the answers are
    prompt = 0
    while p.chosen.input_ids[prompt] == p.rejected.input_ids[prompt]:
        prompt += 1
    assert all(label == IGNORE for label in p.chosen.labels[:prompt])
    trained = tokenizer.decode([t for t in p.rejected.labels if t != IGNORE])
    assert trained.startswith("I think it is 100")
    batch = collate_pairs(pairs.pairs[:2], tokenizer.pad_token_id)
    assert batch["input_ids"].shape[0] == 4
    assert int((batch["targets"][0] != IGNORE).sum()) == p.chosen.trained_tokens


def test_it_lists_pairs_dropped_by_the_overlength_policy(tokenizer, records):
    rows = prefs(records)[:3]
    rows[1]["rejected"] = [{"role": "assistant", "content": "very long " * 200}]
    pairs = encode_pairs(rows, tokenizer, max_seq_len=128)
    assert [d["id"] for d in pairs.dropped] == [1]
    assert pairs.dropped[0]["reason"] == "too_long" and pairs.dropped[0]["rejected_length"] > 128
    with pytest.raises(ValueError, match="has no rejected answer"):
        encode_pairs(records[:1], tokenizer, max_seq_len=128)


def make(tiny_model_dir, **overrides):
    values = {
        "base_model": str(tiny_model_dir),
        "method": "dpo",
        "epochs": 6,
        "batch_size": 4,
        "max_seq_len": 128,
        "learning_rate": 5e-3,
        "eval_interval": 0,
        "checkpoint_interval": 0,
        "warmup_ratio": 0.0,
        "seed": 7,
        "dpo_beta": 0.5,
    } | overrides
    return TrainConfig.from_dict(values)


def test_it_moves_only_adapter_weights_and_the_reference_is_the_base(
    tiny_model_dir, tmp_path, records
):
    recipe = make_recipe(
        make(tiny_model_dir, epochs=1), out_dir=tmp_path, models_dir=tmp_path / "m"
    )
    assert isinstance(recipe, PreferenceRecipe)
    recipe.setup(prefs(records))
    before_base = base_weights(recipe.model)
    before_lora = {
        n: p.detach().clone() for n, p in recipe.model.named_parameters() if "lora_B" in n
    }
    assert recipe.train().status == "completed"
    after = dict(recipe.model.named_parameters())
    assert all(torch.equal(before_base[n], after[n]) for n in before_base)
    assert all(not torch.equal(before_lora[n], after[n]) for n in before_lora)
    assert recipe.reference is None  # no second copy: the adapter is switched off instead


@pytest.mark.parametrize("loss_type", ["sigmoid", "ipo"])
def test_it_raises_reward_accuracy_on_its_training_pairs(
    tiny_model_dir, tmp_path, records, loss_type
):
    reporter = Recorder()
    config = make(tiny_model_dir, dpo_loss_type=loss_type)
    recipe = make_recipe(config, out_dir=tmp_path, models_dir=tmp_path / "m", reporter=reporter)
    train = prefs(records)
    plan = recipe.setup(train, train[:8])
    assert plan["pairs"] == 20 and plan["dropped"] == []
    before = recipe.evaluate_pairs(recipe.rows)
    assert before["reward_accuracy"] == 0.0 and before["reward_margin"] == 0.0  # policy = reference
    assert recipe.train().status == "completed"
    after = recipe.evaluate_pairs(recipe.rows)
    assert after["reward_accuracy"] >= 0.9
    assert after["reward_margin"] > 0
    first, last = reporter.steps[0][1], reporter.steps[-1][1]
    assert {
        "loss",
        "rewards_chosen",
        "rewards_rejected",
        "reward_margin",
        "reward_accuracy",
    } <= set(first)
    assert last["loss"] < first["loss"]
    assert reporter.evals and "eval_reward_accuracy" in reporter.evals[-1][1]
    # the run's rewards are those the held-out evaluation reports: sequence-level, ipo included
    pad = recipe.tokenizer.pad_token_id
    recipe.model.eval()  # no LoRA dropout
    policy = _logps(recipe.model, recipe.rows, pad, 4)
    with recipe.model.disable_adapter():
        reference = _logps(recipe.model, recipe.rows, pad, 4)
    scored = pair_scores(policy, reference, method="dpo", beta=config.dpo_beta)
    for key in ("rewards_chosen", "rewards_rejected", "reward_margin", "reward_accuracy"):
        assert after[key] == pytest.approx(scored[key], rel=1e-4, abs=1e-6), key


def test_it_trains_orpo_and_saves_the_adapter_with_its_lineage(tiny_model_dir, tmp_path, records):
    reporter = Recorder()
    config = make(tiny_model_dir, method="orpo", orpo_beta=0.5, epochs=4)
    recipe = make_recipe(config, out_dir=tmp_path, models_dir=tmp_path / "m", reporter=reporter)
    recipe.setup(prefs(records))
    before = recipe.evaluate_pairs(recipe.rows)
    assert recipe.train().status == "completed"
    after = recipe.evaluate_pairs(recipe.rows)
    assert after["loss"] < before["loss"]
    assert after["reward_margin"] > before["reward_margin"]
    manifest = recipe.save(lineage={"dataset_version_id": 3, "dataset_version_hash": "ab" * 32})
    assert manifest["method"] == "orpo" and manifest["adapter"] is True
    assert manifest["lineage"]["dataset_version_hash"] == "ab" * 32
    assert (tmp_path / "model" / manifest["weights_file"]).name == "adapter_model.safetensors"


def test_it_keeps_a_frozen_reference_copy_for_full_dpo(tiny_model_dir, tmp_path, records):
    config = make(tiny_model_dir, preference_weights="full", epochs=1, learning_rate=1e-3)
    recipe = make_recipe(config, out_dir=tmp_path, models_dir=tmp_path / "m")
    recipe.setup(prefs(records))
    frozen = {n: p.detach().clone() for n, p in recipe.reference.named_parameters()}
    assert recipe.train().status == "completed"
    assert all(torch.equal(frozen[n], p) for n, p in recipe.reference.named_parameters())
    moved = dict(recipe.model.named_parameters())
    assert any(not torch.equal(frozen[n], moved[n]) for n in frozen)
