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
    # manifests before dpo/orpo have no "adapter": there only lora trained one
    if manifest.get("adapter", manifest["method"] == "lora"):
        from peft import PeftModel

        base = load_start(model_dir, models_dir=models_dir, device=device)
        model = PeftModel.from_pretrained(base, weights, is_trainable=False)
    else:
        model = load_model(str(weights), device=device)
    return model.eval(), tokenizer


def load_start(model_dir: str | os.PathLike, *, models_dir: str | os.PathLike, device: str = "cpu"):
    """What a saved model was trained from: its base model, or — for a run chained on a
    fine-tuned model (lineage ``start_from``) — that model with its adapter merged in."""
    model_dir = Path(model_dir)
    manifest = read_manifest(model_dir)
    parent = (manifest.get("lineage") or {}).get("start_from")
    if not parent:
        return load_model(resolve_base_model(manifest["base_model"], models_dir), device=device)
    model, _ = load_finetuned(model_dir / parent, models_dir=models_dir, device=device)
    return model.merge_and_unload() if hasattr(model, "merge_and_unload") else model


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


@torch.no_grad()
def sample(
    model,
    tokenizer,
    messages: list[dict[str, Any]],
    *,
    temperature: float,
    seed: int,
    max_new_tokens: int = 256,
) -> str:
    """One sampled answer at ``temperature``; the same seed gives the same answer on the same
    device and libraries (the global torch generator is seeded right before ``generate``)."""
    ids = _prompt_ids(tokenizer, messages, None).to(next(model.parameters()).device)
    torch.manual_seed(seed)
    out = model.generate(
        input_ids=ids,
        attention_mask=torch.ones_like(ids),
        max_new_tokens=max_new_tokens,
        do_sample=True,
        temperature=temperature,
        top_k=0,
        top_p=1.0,
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
    )
    return tokenizer.decode(out[0, ids.shape[1] :], skip_special_tokens=True).strip()


def playground_seeds(
    model_dir: str | os.PathLike,
    messages: list[dict[str, Any]],
    *,
    models_dir: str | os.PathLike,
    temperature: float,
    seeds: tuple[int, int],
    max_new_tokens: int = 256,
    device: str = "cpu",
) -> dict[str, str]:
    """Two sampled answers of the fine-tuned model to one conversation, at ``seeds[0]`` and
    ``seeds[1]``: ``{"a", "b"}``."""
    model, tokenizer = load_finetuned(model_dir, models_dir=models_dir, device=device)
    first, second = (
        sample(
            model,
            tokenizer,
            messages,
            temperature=temperature,
            seed=seed,
            max_new_tokens=max_new_tokens,
        )
        for seed in seeds
    )
    return {"a": first, "b": second}


def _both(
    model, tokenizer, messages, model_dir, models_dir, max_new_tokens, device
) -> dict[str, str]:
    finetuned = generate(model, tokenizer, messages, max_new_tokens=max_new_tokens)
    if hasattr(model, "disable_adapter"):
        with model.disable_adapter():
            base = generate(model, tokenizer, messages, max_new_tokens=max_new_tokens)
    else:
        base_model = load_start(model_dir, models_dir=models_dir, device=device).eval()
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
        base_model = load_start(model_dir, models_dir=models_dir, device=device)
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


def load_for_generation(
    model: str | os.PathLike | None = None,
    *,
    base_model: str | None = None,
    models_dir: str | os.PathLike,
    device: str = "cpu",
):
    """A model and tokenizer ready to generate: a fine-tuned model folder (``model``, as
    :func:`load_finetuned`) or a base model name (``base_model``, as training resolves it)."""
    if model is not None:
        return load_finetuned(model, models_dir=models_dir, device=device)
    path = resolve_base_model(base_model, models_dir)
    return load_model(path, device=device).eval(), load_tokenizer(path)


@torch.no_grad()
def generate_batch(
    model,
    tokenizer,
    conversations: list[list[dict[str, Any]]],
    *,
    max_new_tokens: int = 128,
    temperature: float = 0.0,
    seed: int = 0,
    batch_size: int = 8,
    on_batch=None,
    repetition_penalty: float = 1.0,
    no_repeat_ngram_size: int = 0,
) -> list[str]:
    """Answers to many conversations, ``batch_size`` at a time, in their order.

    Prompts are sorted by length so a batch pads little, left-padded (a decoder continues from
    the right end), and generated together: greedy at ``temperature`` 0, else sampled with the
    generator seeded per batch from ``seed`` (the same inputs give the same answers).
    ``on_batch(indices, answers)`` is called after each batch with the conversations' indices
    and their answers, and may return True to stop; answers not generated then are None.
    ``repetition_penalty`` (> 1 discourages tokens already in the prompt or answer) and
    ``no_repeat_ngram_size`` (n > 0 forbids repeating any n-gram) are passed to
    ``model.generate``; 1.0 and 0 leave decoding plain.

    >>> generate_batch(model, tokenizer, [[{"role": "user", "content": "2+2?"}]])  # doctest: +SKIP
    ['4']
    """
    device = next(model.parameters()).device
    prompts = [_prompt_ids(tokenizer, messages)[0] for messages in conversations]
    order = sorted(range(len(prompts)), key=lambda i: len(prompts[i]))
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    answers: list[str | None] = [None] * len(prompts)
    for start in range(0, len(order), batch_size):
        chunk = order[start : start + batch_size]
        width = max(len(prompts[i]) for i in chunk)
        ids = torch.full((len(chunk), width), pad, dtype=torch.long)
        mask = torch.zeros((len(chunk), width), dtype=torch.long)
        for row, i in enumerate(chunk):
            n = len(prompts[i])
            ids[row, width - n :] = prompts[i]
            mask[row, width - n :] = 1
        sampling = temperature > 0
        if sampling:
            torch.manual_seed(seed + start)
        out = model.generate(
            input_ids=ids.to(device),
            attention_mask=mask.to(device),
            max_new_tokens=max_new_tokens,
            do_sample=sampling,
            **({"temperature": temperature, "top_k": 0} if sampling else {}),
            **({"repetition_penalty": repetition_penalty} if repetition_penalty != 1.0 else {}),
            **({"no_repeat_ngram_size": no_repeat_ngram_size} if no_repeat_ngram_size else {}),
            pad_token_id=pad,
            eos_token_id=tokenizer.eos_token_id,
        )
        done = [
            tokenizer.decode(out[row, width:], skip_special_tokens=True).strip()
            for row in range(len(chunk))
        ]
        for i, answer in zip(chunk, done, strict=True):
            answers[i] = answer
        if on_batch is not None and on_batch(chunk, done):
            break
    return answers
