"""The one builder of the tests' tiny random Llama (2 layers, 32 wide, SmolLM2's tokenizer).

The ``tiny_model_dir`` fixture (tests/training/recipe/conftest.py, shared by tests/training) calls
:func:`build`; the production stack's training worker gets the same model from
``python -m tests.reliability.tiny_model DIR``."""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")

TOKENIZER_DIR = Path(__file__).resolve().parents[1] / "fixtures" / "training" / "smollm2-tokenizer"


def build(path: Path, tokenizer=None) -> Path:
    """Save the tiny Llama (seeded random weights, safetensors) and its tokenizer into ``path``;
    ``tokenizer`` defaults to SmolLM2's, loaded from tests/fixtures."""
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    if tokenizer is None:
        tokenizer = AutoTokenizer.from_pretrained(TOKENIZER_DIR)
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
    path.mkdir(parents=True, exist_ok=True)
    LlamaForCausalLM(config).save_pretrained(path, safe_serialization=True)
    tokenizer.save_pretrained(path)
    return path


if __name__ == "__main__":
    print(build(Path(sys.argv[1]).resolve()))
