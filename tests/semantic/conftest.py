"""Fixtures for the semantic layer: a tiny random BERT with a small WordPiece vocabulary, saved
as a sentence-embedding folder (safetensors) and registered as the deployment's only extra
embedding model. The bundled all-MiniLM-L6-v2 is never needed by these tests."""

from __future__ import annotations

import json
import os
from contextlib import contextmanager
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

WORDS = (
    "the a an is are was to of and or in on for with my your i you it this that how what when "
    "refund order cancel money back return shipping delivery late package password reset login "
    "account email weather rain sunny cold hot today tomorrow recipe cake bake flour sugar "
    "python code bug error function list please help can do me get want need"
).split()


def build_tiny_bert(path: Path) -> Path:
    """A 2-layer, 32-wide BERT with seeded random weights and a word-level-ish vocabulary."""
    import torch
    from transformers import BertConfig, BertModel, BertTokenizerFast

    path.mkdir(parents=True, exist_ok=True)
    letters = [chr(c) for c in range(ord("a"), ord("z") + 1)] + list("0123456789.,?!'")
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *WORDS, *letters]
    vocab += ["##" + c for c in letters]
    tokenizer = BertTokenizerFast(
        vocab={token: i for i, token in enumerate(dict.fromkeys(vocab))}, do_lower_case=True
    )
    tokenizer.model_max_length = 512
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=128,
    )
    BertModel(config).save_pretrained(path, safe_serialization=True)
    tokenizer.save_pretrained(path)
    (path / "sentence_bert_config.json").write_text(json.dumps({"max_seq_length": 64}))
    return path


@pytest.fixture(scope="session")
def tiny_bert_dir(tmp_path_factory) -> Path:
    return build_tiny_bert(tmp_path_factory.mktemp("tiny-bert"))


@pytest.fixture
def embedding_settings(settings, tmp_path, tiny_bert_dir):
    """The tiny model allowed, vectors under a fresh data folder, no model cached in between."""
    from semantic.services.embedding_models import embedders_forget

    settings.FINETUNEDB_EMBEDDING_MODELS = [str(tiny_bert_dir)]
    settings.DATA_DIR = tmp_path / "data"
    embedders_forget()
    yield settings
    embedders_forget()


@contextmanager
def embedding_engine_running(models_dir: Path, *embedding_models: Path):
    """The URL of a real serving engine process on 127.0.0.1 (tests/serving/conftest.py's)
    offering ``embedding_models`` besides the bundled model; stopped on exit."""
    from tests.serving.conftest import start_engine

    extra = [arg for folder in embedding_models for arg in ("--embedding-model", str(folder))]
    process, url = start_engine(models_dir, None, *extra)
    try:
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="session")
def embedding_engine(tmp_path_factory, tiny_bert_dir):
    """The URL of one engine for the session, offering the tiny model."""
    with embedding_engine_running(tmp_path_factory.mktemp("engine-models"), tiny_bert_dir) as url:
        yield url


@pytest.fixture
def embedding_served(embedding_settings, embedding_engine):
    """``embedding_settings`` with the web side pointed at the live engine (searches embed there)."""
    embedding_settings.FINETUNEDB_SERVING_URL = embedding_engine
    return embedding_settings
