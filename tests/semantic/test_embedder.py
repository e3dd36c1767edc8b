"""semantic/embedder.py on the tiny BERT: unit float16 rows, the caller's order kept however the
texts are batched, no hub, only safetensors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from semantic.bundled import EmbeddingModelError
from semantic.embedder import Embedder

TEXTS = [
    "how do i get a refund for my order",
    "cancel",
    "what is the weather today, is it cold or sunny or will it rain tomorrow",
    "reset my password please",
    "bake a cake with flour and sugar",
]


@pytest.fixture(scope="module")
def embedder(tiny_bert_dir):
    return Embedder.load(tiny_bert_dir, device="cpu")


def test_it_returns_unit_float16_rows_in_the_callers_order(embedder):
    out = embedder.embed(TEXTS, batch_size=2)
    assert out.dtype == np.float16
    assert out.shape == (len(TEXTS), 32)
    assert np.allclose(np.linalg.norm(out.astype(np.float32), axis=1), 1.0, atol=2e-3)
    one_by_one = np.stack([embedder.embed([t])[0] for t in TEXTS])
    assert np.allclose(out.astype(np.float32), one_by_one.astype(np.float32), atol=3e-3)


def test_it_gives_identical_texts_identical_rows_and_different_texts_different_ones(embedder):
    out = embedder.embed(["reset my password", "bake a cake", "reset my password"])
    a, b, c = out.astype(np.float32)
    assert np.allclose(a, c, atol=1e-3)
    assert float(a @ b) < 0.999


def test_it_reports_progress_per_batch(embedder):
    seen = []
    embedder.embed(TEXTS, batch_size=2, progress=seen.append)
    assert seen == [2, 4, 5]


def test_it_embeds_nothing_for_no_texts(embedder):
    assert embedder.embed([]).shape == (0, 32)


def test_it_refuses_a_folder_without_safetensors(tmp_path):
    with pytest.raises(EmbeddingModelError, match="only safetensors"):
        Embedder.load(tmp_path)


def test_it_refuses_weights_whose_hash_is_not_the_pinned_one(tiny_bert_dir):
    with pytest.raises(EmbeddingModelError, match="expected 00"):
        Embedder.load(tiny_bert_dir, sha256="00" * 32)


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.text(max_size=80), max_size=9), st.integers(1, 4))
def test_it_keeps_order_and_unit_length_for_any_texts(embedder, texts, batch):
    out = embedder.embed(texts, batch_size=batch).astype(np.float32)
    assert out.shape == (len(texts), 32)
    if texts:
        assert np.allclose(np.linalg.norm(out, axis=1), 1.0, atol=2e-3)
        assert np.allclose(out[0], embedder.embed(texts[:1])[0].astype(np.float32), atol=3e-3)
