"""Base against fine-tuned: loss and token accuracy on held-out assistant tokens, side-by-side
greedy generations, and a ``generate`` helper for the playground."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch

from .artifacts import read_manifest
from .base_models import load_model, load_tokenizer, resolve_base_model
from .batching import make_rows
from .data import encode_records, template_messages
from .losses import evaluate_rows

ERR_NO_PROMPT = "the conversation needs at least one message before the answer"


def load_finetuned(
    model_dir: str | os.PathLike, *, models_dir: str | os.PathLike, device: str = "cpu"
):
    """The fine-tuned model (adapter on its base, or full weights) and its tokenizer, in eval mode."""
    model_dir = Path(model_dir)
    manifest = read_manifest(model_dir)
    weights = model_dir / "weights"
    tokenizer = load_tokenizer(str(weights))
    if manifest["method"] == "lora":
        from peft import PeftModel

        base = load_model(resolve_base_model(manifest["base_model"], models_dir), device=device)
        model = PeftModel.from_pretrained(base, weights, is_trainable=False)
    else:
        model = load_model(str(weights), device=device)
    return model.eval(), tokenizer


def _prompt_ids(tokenizer, messages: list[dict[str, Any]], tools=None) -> torch.Tensor:
    if not messages:
        raise ValueError(ERR_NO_PROMPT)
    template = tokenizer.chat_template if isinstance(tokenizer.chat_template, str) else ""
    text = tokenizer.apply_chat_template(
        template_messages(messages, template),
        tools=tools or None,
        tokenize=False,
        add_generation_prompt=True,
    )
    return tokenizer(text, add_special_tokens=False, return_tensors="pt")["input_ids"]


@torch.no_grad()
def generate(
    model, tokenizer, messages: list[dict[str, Any]], *, max_new_tokens: int = 256, tools=None
) -> str:
    """Greedy answer of ``model`` to a conversation (its last turn should be the user's)."""
    ids = _prompt_ids(tokenizer, messages, tools).to(next(model.parameters()).device)
    out = model.generate(
        input_ids=ids,
        attention_mask=torch.ones_like(ids),
        max_new_tokens=max_new_tokens,
        do_sample=False,
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
    )
    return tokenizer.decode(out[0, ids.shape[1] :], skip_special_tokens=True).strip()


def playground(
    model_dir: str | os.PathLike,
    messages: list[dict[str, Any]],
    *,
    models_dir: str | os.PathLike,
    max_new_tokens: int = 256,
    device: str = "cpu",
) -> dict[str, str]:
    """Answers of the base and the fine-tuned model to one conversation: ``{"base", "finetuned"}``."""
    model, tokenizer = load_finetuned(model_dir, models_dir=models_dir, device=device)
    return _both(model, tokenizer, messages, model_dir, models_dir, max_new_tokens, device)


def _both(
    model, tokenizer, messages, model_dir, models_dir, max_new_tokens, device
) -> dict[str, str]:
    finetuned = generate(model, tokenizer, messages, max_new_tokens=max_new_tokens)
    if hasattr(model, "disable_adapter"):
        with model.disable_adapter():
            base = generate(model, tokenizer, messages, max_new_tokens=max_new_tokens)
    else:
        manifest = read_manifest(Path(model_dir))
        base_model = load_model(
            resolve_base_model(manifest["base_model"], models_dir), device=device
        ).eval()
        base = generate(base_model, tokenizer, messages, max_new_tokens=max_new_tokens)
    return {"base": base, "finetuned": finetuned}


def compare(
    model_dir: str | os.PathLike,
    records: list[dict[str, Any]],
    *,
    models_dir: str | os.PathLike,
    max_seq_len: int = 2048,
    batch_size: int = 8,
    samples: int = 5,
    max_new_tokens: int = 128,
    device: str = "cpu",
) -> dict[str, Any]:
    """Base against fine-tuned on held-out records (the version's test or validation split).

    Returns ``{"base": {loss, token_accuracy, tokens}, "finetuned": {...}, "samples": [...]}``
    where each sample holds the prompt messages, the reference answer and both generations.
    Over-long records are truncated for the loss, as in evaluation during training.
    """
    model, tokenizer = load_finetuned(model_dir, models_dir=models_dir, device=device)
    encoded = encode_records(records, tokenizer, max_seq_len=max_seq_len, overlength="truncate")
    rows = make_rows(encoded, max_seq_len=max_seq_len, packing=True)
    finetuned = evaluate_rows(model, rows, pad_id=tokenizer.pad_token_id, batch_size=batch_size)
    if hasattr(model, "disable_adapter"):
        with model.disable_adapter():
            base = evaluate_rows(model, rows, pad_id=tokenizer.pad_token_id, batch_size=batch_size)
    else:
        manifest = read_manifest(Path(model_dir))
        base_model = load_model(
            resolve_base_model(manifest["base_model"], models_dir), device=device
        )
        base = evaluate_rows(base_model, rows, pad_id=tokenizer.pad_token_id, batch_size=batch_size)
    side_by_side = []
    for record in records[:samples]:
        messages = record["messages"]
        last = max(
            (i for i, m in enumerate(messages) if m["role"] == "assistant"), default=len(messages)
        )
        prompt = messages[:last]
        if not prompt:
            continue
        answers = _both(model, tokenizer, prompt, model_dir, models_dir, max_new_tokens, device)
        reference = messages[last].get("content") if last < len(messages) else None
        side_by_side.append({"messages": prompt, "reference": reference, **answers})
    return {"base": base, "finetuned": finetuned, "samples": side_by_side}
