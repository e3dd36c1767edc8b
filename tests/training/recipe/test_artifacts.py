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
