"""SFT → DPO: a DPO run started from a saved SFT model trains a new adapter on the SFT weights
(merged), so its reference is the SFT model; the saved model loads with the same parent."""

import pytest
import torch

from tests.training.recipe.test_loop import make as make_sft
from tests.training.recipe.test_preference import make, prefs
from training.recipe.evaluate import load_finetuned, load_start
from training.recipe.loop import TrainingRecipe
from training.recipe.preference import collate_pairs, encode_pairs, sequence_logps
from training.recipe.preference_loop import ERR_START_FROM_SFT, make_recipe


def _logps(model, tokenizer, records):
    pairs = encode_pairs(records, tokenizer, max_seq_len=128).pairs
    with torch.no_grad():
        return sequence_logps(model, collate_pairs(pairs, tokenizer.pad_token_id))[0]


def test_it_starts_dpo_from_the_sft_model_and_loads_it_back(tiny_model_dir, tmp_path, records):
    sft = TrainingRecipe(
        make_sft(tiny_model_dir, tmp_path, epochs=2, max_seq_len=128),
        out_dir=tmp_path / "sft",
        models_dir=tmp_path / "m",
    )
    sft.setup(records)
    sft.train()
    sft.save(lineage={"dataset_version_id": 1, "dataset_version_hash": "a" * 64})
    sft_dir = tmp_path / "sft" / "model"
    pairs = prefs(records)[:8]
    sft_model, tokenizer = load_finetuned(sft_dir, models_dir=tmp_path / "m")
    expected = _logps(sft_model, tokenizer, pairs)

    config = make(tiny_model_dir, epochs=1, max_seq_len=128)
    dpo = make_recipe(
        config, out_dir=tmp_path / "dpo", models_dir=tmp_path / "m", start_from=sft_dir
    )
    dpo.setup(pairs)
    # the new adapter starts at zero on the merged SFT weights: policy = reference = SFT model
    start = dpo.evaluate_pairs(dpo.rows)
    assert start["reward_margin"] == 0.0
    dpo.model.eval()
    torch.testing.assert_close(_logps(dpo.model, tokenizer, pairs), expected, rtol=1e-4, atol=1e-3)
    assert dpo.train().status == "completed"
    manifest = dpo.save(lineage={"dataset_version_id": 2, "dataset_version_hash": "b" * 64})
    assert manifest["lineage"]["start_from"] == "../../sft/model"

    loaded, _ = load_finetuned(tmp_path / "dpo" / "model", models_dir=tmp_path / "m")
    with loaded.disable_adapter():  # the reference: the SFT model, not the raw base
        torch.testing.assert_close(_logps(loaded, tokenizer, pairs), expected, rtol=1e-4, atol=1e-3)
    reference = load_start(tmp_path / "dpo" / "model", models_dir=tmp_path / "m")
    torch.testing.assert_close(_logps(reference, tokenizer, pairs), expected, rtol=1e-4, atol=1e-3)
    moved = _logps(loaded, tokenizer, pairs)
    assert not torch.allclose(moved, expected)


def test_it_refuses_start_from_for_sft(tiny_model_dir, tmp_path):
    config = make_sft(tiny_model_dir, tmp_path)
    with pytest.raises(ValueError, match=ERR_START_FROM_SFT):
        make_recipe(config, out_dir=tmp_path, models_dir=tmp_path / "m", start_from=tmp_path)
