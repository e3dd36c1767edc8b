"""semantic/bundled.py: the bundled model's zip is extracted once, atomically, and only published
when its weights hash to the pinned sha256."""

from __future__ import annotations

import importlib.util
import zipfile

import numpy as np
import pytest

from semantic.bundled import (
    BUNDLED_EMBEDDING_MODEL,
    COMPLETE_MARKER,
    EmbeddingModelError,
    ensure_bundled_embedding_model,
    file_sha256,
    verify_weights,
)


def _zip(path, members: dict[str, bytes]):
    with zipfile.ZipFile(path, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    return path


def test_it_refuses_a_zip_whose_weights_are_not_the_pinned_ones(tmp_path):
    archive = _zip(tmp_path / "model.zip", {"model.safetensors": b"not the weights"})
    with pytest.raises(EmbeddingModelError, match="sha256"):
        ensure_bundled_embedding_model(tmp_path / "cache", archive)
    # nothing half-built is left where a worker would look
    assert not (tmp_path / "cache" / BUNDLED_EMBEDDING_MODEL).exists()
    assert [p.name for p in (tmp_path / "cache").iterdir()] == [f".{BUNDLED_EMBEDDING_MODEL}.lock"]


def test_it_refuses_a_zip_that_writes_outside_its_folder(tmp_path):
    archive = _zip(tmp_path / "model.zip", {"../escape.txt": b"x"})
    with pytest.raises(EmbeddingModelError, match="member"):
        ensure_bundled_embedding_model(tmp_path / "cache", archive)
    assert not (tmp_path / "escape.txt").exists()


def test_it_verifies_weights_against_a_given_hash(tmp_path):
    (tmp_path / "model.safetensors").write_bytes(b"weights")
    verify_weights(tmp_path, file_sha256(tmp_path / "model.safetensors"))
    (tmp_path / "model.safetensors").write_bytes(b"weights, changed")
    with pytest.raises(EmbeddingModelError, match="changed or damaged"):
        verify_weights(tmp_path, file_sha256(tmp_path / "model.safetensors")[::-1])


@pytest.mark.slow
@pytest.mark.skipif(
    importlib.util.find_spec("all_minilm_l6_v2") is None, reason="bundled model not installed"
)
def test_it_extracts_the_installed_model_once_and_embeds_paraphrases_close(tmp_path):
    from semantic.bundled import WEIGHTS_SHA256
    from semantic.embedder import Embedder

    folder = ensure_bundled_embedding_model(tmp_path)
    assert (folder / COMPLETE_MARKER).is_file()
    assert ensure_bundled_embedding_model(tmp_path) == folder
    model = Embedder.load(folder, sha256=WEIGHTS_SHA256, device="cpu")
    a, b, c = model.embed(
        [
            "How can I get my money back for this order?",
            "I would like a refund for my purchase.",
            "What will the weather be like tomorrow?",
        ]
    ).astype(np.float32)
    assert model.dimension == 384
    assert a @ b > 0.5 > a @ c
