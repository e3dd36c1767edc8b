"""Fixtures for the recipe tests: SmolLM2's real tokenizer and a tiny random Llama built from it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

TOKENIZER_DIR = Path(__file__).resolve().parents[2] / "fixtures" / "training" / "smollm2-tokenizer"


@pytest.fixture(scope="session")
def tokenizer():
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(TOKENIZER_DIR)


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory, tokenizer) -> Path:
    """A 2-layer, 32-wide Llama with SmolLM2's vocabulary, random weights, saved as safetensors."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=512,
        tie_word_embeddings=True,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    model = LlamaForCausalLM(config)
    path = tmp_path_factory.mktemp("tiny-llama")
    model.save_pretrained(path, safe_serialization=True)
    tokenizer.save_pretrained(path)
    return path


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
