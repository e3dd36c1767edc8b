"""A saved DPO/ORPO model scored on held-out pairs: the figures training reported for the same
pairs, the base's own ranking, and the reward formulas on fixed log-probabilities."""

import pytest
import torch

from tests.training.recipe.test_preference import make, prefs
from training.recipe.preference_eval import compare_pairs, pair_scores
from training.recipe.preference_loop import make_recipe


def test_it_scores_orpo_rewards_as_the_mean_log_probability_times_lambda():
    sums = torch.tensor([[-2.0, -6.0], [-3.0, -1.0]])
    counts = torch.tensor([[2, 3], [1, 1]])
    scores = pair_scores((sums, counts), (sums, counts), method="orpo", beta=0.5)
    # chosen means -1 and -3, rejected -2 and -1: rewards 0.5 × mean
    assert scores["rewards_chosen"] == pytest.approx(0.5 * (-1 - 3) / 2)
    assert scores["rewards_rejected"] == pytest.approx(0.5 * (-2 - 1) / 2)
    assert scores["reward_accuracy"] == 0.5 and scores["pairs"] == 2
    assert scores["logp_accuracy"] == 0.5


@pytest.mark.parametrize("method", ["dpo", "orpo"])
def test_it_scores_a_saved_model_as_training_scored_the_same_pairs(
    tiny_model_dir, tmp_path, records, method
):
    extra = {"orpo_beta": 0.5} if method == "orpo" else {}
    config = make(tiny_model_dir, method=method, epochs=3, **extra)
    recipe = make_recipe(config, out_dir=tmp_path, models_dir=tmp_path / "m")
    pairs = prefs(records)
    recipe.setup(pairs[:16])
    assert recipe.train().status == "completed"
    held_out = pairs[16:]
    recipe.save(lineage={"dataset_version_id": 1, "dataset_version_hash": "cd" * 32})
    during = recipe.evaluate_pairs(_encoded(recipe, held_out))
    scored = compare_pairs(
        tmp_path / "model",
        [{k: v for k, v in r.items() if k != "id"} for r in held_out],
        models_dir=tmp_path / "m",
        max_seq_len=config.max_seq_len,
    )
    assert scored["method"] == method and scored["pairs"] == len(held_out) == 4
    for key in ("rewards_chosen", "rewards_rejected", "reward_margin", "reward_accuracy"):
        assert scored[key] == pytest.approx(during[key], abs=1e-4)
    if method == "dpo":
        assert scored["reward_margin"] != 0.0  # the adapter moved away from its reference
    assert 0.0 <= scored["base_logp_accuracy"] <= 1.0


def _encoded(recipe, records):
    from training.recipe.preference import encode_pairs

    return encode_pairs(
        records, recipe.tokenizer, max_seq_len=recipe.config.max_seq_len, overlength="truncate"
    ).pairs
