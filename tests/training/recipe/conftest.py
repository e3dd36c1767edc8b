"""Fixtures for the recipe tests: SmolLM2's real tokenizer and a tiny random Llama built from it."""

from __future__ import annotations

from pathlib import Path

import pytest

# Also sets HF_HUB_OFFLINE and TRANSFORMERS_OFFLINE before transformers is imported.
from tests.reliability.tiny_model import TOKENIZER_DIR, build


@pytest.fixture(scope="session")
def tokenizer():
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(TOKENIZER_DIR)


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory, tokenizer) -> Path:
    """A 2-layer, 32-wide Llama with SmolLM2's vocabulary, random weights, saved as safetensors
    (built by tests/reliability/tiny_model.py, the one builder)."""
    return build(tmp_path_factory.mktemp("tiny-llama"), tokenizer)


def chat(question: str, answer: str, *, system: str | None = None) -> dict:
    messages = [{"role": "system", "content": system}] if system else []
    return {
        "messages": messages
        + [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]
    }


@pytest.fixture(scope="session")
def records() -> list[dict]:
    """Twenty short arithmetic chats of varied length."""
    out = []
    for i in range(20):
        a, b = i + 2, 3 * i + 1
        answer = f"{a} plus {b} is {a + b}." + (" Let me explain." * (i % 4))
        out.append(chat(f"What is {a} + {b}?", answer, system="Be brief." if i % 3 == 0 else None))
    return out
