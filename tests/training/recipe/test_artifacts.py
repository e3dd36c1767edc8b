import json

import pytest

from training.recipe.artifacts import sha256_file, verify
from training.recipe.config import TrainConfig
from training.recipe.evaluate import compare, generate, load_finetuned, playground
from training.recipe.loop import TrainingRecipe

LINEAGE = {"dataset_version_id": 42, "dataset_version_hash": "ab" * 32, "name": "support-bot v3"}


@pytest.fixture(scope="module")
def trained(tiny_model_dir, tmp_path_factory, records):
    out = tmp_path_factory.mktemp("run")
    config = TrainConfig.from_dict({"base_model": str(tiny_model_dir), "epochs": 4, "batch_size": 4, "max_seq_len": 128,
                                    "learning_rate": 2e-2, "eval_interval": 0, "checkpoint_interval": 0})  # fmt: skip
    recipe = TrainingRecipe(config, out_dir=out, models_dir=out / "m")
    recipe.setup(records, records[:4])
    recipe.train()
    recipe.save(lineage=LINEAGE, merged=True)
    return out / "model"


def test_it_records_hashes_config_versions_and_lineage(trained):
    manifest = json.loads((trained / "manifest.json").read_text())
    assert manifest["weights_sha256"] == sha256_file(
        trained / "weights" / "adapter_model.safetensors"
    )
    assert manifest["lineage"] == LINEAGE
    assert {"torch", "transformers", "peft"} <= set(manifest["libraries"])
    assert manifest["seed"] == 42 and manifest["device"] == "cpu"
    assert TrainConfig.from_dict(manifest["config"]).epochs == 4
    assert (trained / "merged" / "model.safetensors").is_file()
    assert (trained / "COMPLETE").is_file()
    assert verify(trained)
    card = (trained / "README.md").read_text()
    assert "ab" * 32 in card and "42" in card and manifest["weights_sha256"] in card


def test_it_merges_weights_that_answer_exactly_like_base_plus_adapter(trained, tmp_path):
    import torch
    from transformers import AutoModelForCausalLM

    manifest = json.loads((trained / "manifest.json").read_text())
    assert manifest["files"]["merged/model.safetensors"] == sha256_file(
        trained / "merged" / "model.safetensors"
    )
    with_adapter, tokenizer = load_finetuned(trained, models_dir=tmp_path)
    merged = AutoModelForCausalLM.from_pretrained(trained / "merged").eval()
    assert not any("lora" in name for name, _ in merged.named_parameters())
    ids = tokenizer("What is 2 + 3?", return_tensors="pt").input_ids
    with torch.no_grad():
        expected, got = with_adapter(ids).logits, merged(ids).logits
    # The adapter really changed the model, and the merged copy carries that change.
    with torch.no_grad(), with_adapter.disable_adapter():
        assert not torch.allclose(with_adapter(ids).logits, expected, atol=1e-4)
    torch.testing.assert_close(got, expected, atol=1e-4, rtol=1e-4)


def test_it_saves_merged_weights_when_the_config_asks(tiny_model_dir, records, tmp_path):
    config = TrainConfig.from_dict({"base_model": str(tiny_model_dir), "max_steps": 1, "batch_size": 4,
                                    "max_seq_len": 128, "eval_interval": 0, "checkpoint_interval": 0,
                                    "merge_weights": True})  # fmt: skip
    recipe = TrainingRecipe(config, out_dir=tmp_path, models_dir=tmp_path / "m")
    recipe.setup(records[:4])
    recipe.train()
    manifest = recipe.save(lineage=LINEAGE)
    assert "merged/model.safetensors" in manifest["files"]
    assert manifest["weights_file"] == "weights/adapter_model.safetensors"


def test_it_detects_a_tampered_file(trained, tmp_path):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(trained, copy)
    with open(copy / "weights" / "adapter_model.safetensors", "ab") as fh:
        fh.write(b"x")
    assert not verify(copy)


def test_it_compares_base_and_finetuned_on_held_out_records(trained, records, tmp_path):
    result = compare(trained, records[:6], models_dir=tmp_path, samples=2, max_new_tokens=4)
    assert result["finetuned"]["loss"] < result["base"]["loss"]
    assert result["finetuned"]["tokens"] == result["base"]["tokens"] > 0
    assert [s["reference"] for s in result["samples"]] == [
        r["messages"][-1]["content"] for r in records[:2]
    ]
    assert all(
        isinstance(s["base"], str) and isinstance(s["finetuned"], str) for s in result["samples"]
    )


def test_it_generates_for_the_playground(trained, tmp_path):
    answers = playground(
        trained,
        [{"role": "user", "content": "What is 2 + 1?"}],
        models_dir=tmp_path,
        max_new_tokens=6,
    )
    assert set(answers) == {"base", "finetuned"}
    model, tokenizer = load_finetuned(trained, models_dir=tmp_path)
    assert (
        generate(
            model, tokenizer, [{"role": "user", "content": "What is 2 + 1?"}], max_new_tokens=6
        )
        == answers["finetuned"]
    )


def test_it_answers_twice_at_two_seeds_for_the_playground(trained, tmp_path):
    from training.recipe.evaluate import playground_seeds, sample

    prompt = [{"role": "user", "content": "What is 2 + 1?"}]
    answers = playground_seeds(
        trained, prompt, models_dir=tmp_path, temperature=1.5, seeds=(1, 2), max_new_tokens=12
    )
    assert set(answers) == {"a", "b"} and answers["a"] != answers["b"]
    again = playground_seeds(
        trained, prompt, models_dir=tmp_path, temperature=1.5, seeds=(2, 1), max_new_tokens=12
    )
    assert again == {"a": answers["b"], "b": answers["a"]}
    model, tokenizer = load_finetuned(trained, models_dir=tmp_path)
    one = sample(model, tokenizer, prompt, temperature=1.5, seed=1, max_new_tokens=12)
    assert one == answers["a"]
