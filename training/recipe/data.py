"""From chat records to token ids and labels, with the base model's own chat template.

A record is plain data in the OpenAI chat shape: ``{"messages": [...], "tools"?: [...]}``; an
assistant message may carry ``weight`` 0 or 1 (default 1). Extra keys (such as ``id``) are ignored
except that ``id`` is echoed in reports.

Labels are the token id where the model must learn and ``-100`` everywhere else: system, user and
tool turns, the template's own tokens around each turn, and assistant turns of weight 0. An
assistant turn of weight 1 trains on its content and its end-of-turn token (``<|im_end|>`` in
ChatML) but not the newline the template adds after it.

How the trained spans are found, without trusting any template to mark them: the whole
conversation is rendered once; for each trained assistant turn the conversation up to that turn is
rendered again with a sentinel as its content, which gives the character where the answer starts,
and rendered with the real content, which gives where the turn ends. Every partial render must be
a prefix of the full render (checked; a template that rewrites earlier turns raises
:class:`TemplateError`). The text is then tokenized span by span (see :func:`_tokenize`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

IGNORE = -100
_SENTINEL = "\u2063FTDB-ANSWER-STARTS-HERE\u2063"

ERR_NO_TEMPLATE = "the tokenizer has no chat template; choose an instruct/chat base model"
ERR_NOT_PREFIX = (
    "the chat template of this base model renders earlier turns differently once later turns "
    "follow (message {index}); trained tokens cannot be located reliably"
)
ERR_OVERLENGTH = "{count} example(s) exceed max_seq_len={max_seq_len} tokens: {listing}"
ERR_NO_MESSAGES = "record {index} has no messages"

DROP_TOO_LONG = "too_long"
DROP_NOTHING_TO_LEARN = "no_trained_tokens"


class TemplateError(ValueError):
    """The chat template cannot be used to locate trained tokens."""


class OverlengthError(ValueError):
    """Raised under ``overlength="error"``; ``.examples`` lists ``{index, id?, length}``."""

    def __init__(self, message: str, examples: list[dict[str, Any]]):
        super().__init__(message)
        self.examples = examples


@dataclass
class Encoded:
    """One rendered example: token ids and labels of equal length."""

    index: int
    input_ids: list[int]
    labels: list[int]

    @property
    def trained_tokens(self) -> int:
        """Tokens the loss is computed on: labels not ``IGNORE``, after the shift by one."""
        return sum(1 for label in self.labels[1:] if label != IGNORE)


@dataclass
class EncodedSet:
    """The encoded examples plus every example that was dropped or truncated, and why."""

    examples: list[Encoded] = field(default_factory=list)
    dropped: list[dict[str, Any]] = field(default_factory=list)
    truncated: list[dict[str, Any]] = field(default_factory=list)


def template_messages(messages: list[dict[str, Any]], template: str) -> list[dict[str, Any]]:
    """Messages as the template expects them: no ``weight``; tool calls as text if unsupported."""
    out = []
    for message in messages:
        m = {k: v for k, v in message.items() if k != "weight"}
        if m.get("tool_calls") and "tool_calls" not in template:
            calls = [c["function"] for c in m.pop("tool_calls")]
            m["content"] = (m.get("content") or "") + json.dumps(calls, ensure_ascii=False)
        if m.get("content") is None:
            m["content"] = ""
        out.append(m)
    return out


def _render(tokenizer, messages, tools, *, generation_prompt: bool = False) -> str:
    return tokenizer.apply_chat_template(
        messages, tools=tools or None, tokenize=False, add_generation_prompt=generation_prompt
    )


def trained_spans(record: dict[str, Any], tokenizer) -> tuple[str, list[tuple[int, int]]]:
    """The full rendered text and the character spans ``[start, end)`` that carry labels."""
    template = tokenizer.chat_template
    if not template:
        raise TemplateError(ERR_NO_TEMPLATE)
    if isinstance(template, dict):  # several named templates: the default one renders chats
        template = template.get("default") or next(iter(template.values()))
    messages = template_messages(record["messages"], template)
    tools = record.get("tools")
    full = _render(tokenizer, messages, tools)
    spans = []
    for i, original in enumerate(record["messages"]):
        if original["role"] != "assistant" or original.get("weight", 1) == 0:
            continue
        marked = dict(messages[i], content=_SENTINEL)
        with_sentinel = _render(tokenizer, messages[:i] + [marked], tools)
        start = with_sentinel.find(_SENTINEL)
        upto = _render(tokenizer, messages[: i + 1], tools)
        if start < 0 or not upto.startswith(with_sentinel[:start]) or not full.startswith(upto):
            raise TemplateError(ERR_NOT_PREFIX.format(index=i))
        # The end-of-turn token is learned (the model must learn to stop); the whitespace the
        # template puts between turns is not.
        spans.append((start, len(upto.rstrip())))
    return full, spans


def _tokenize(tokenizer, text: str, spans: list[tuple[int, int]]):
    """Token ids, trained flags and character offsets of ``text``.

    Each trained span and each stretch between spans is tokenized on its own, as at inference,
    where the prompt is tokenized up to the generation prompt and the answer is generated after
    it; no token ever straddles a span boundary.
    """
    cuts = sorted({0, len(text), *(p for span in spans for p in span)})
    ids, flags, offsets = [], [], []
    for start, end in zip(cuts, cuts[1:], strict=False):
        piece = tokenizer(text[start:end], add_special_tokens=False, return_offsets_mapping=True)
        trained = any(s <= start and end <= e for s, e in spans)
        ids += piece["input_ids"]
        flags += [trained] * len(piece["input_ids"])
        offsets += [(start + a, start + b) for a, b in piece["offset_mapping"]]
    return ids, flags, offsets


def encode(record: dict[str, Any], tokenizer, *, index: int = 0) -> Encoded:
    """Render one record and label its tokens (no length limit applied)."""
    if not record.get("messages"):
        raise ValueError(ERR_NO_MESSAGES.format(index=index))
    text, spans = trained_spans(record, tokenizer)
    ids, flags, _ = _tokenize(tokenizer, text, spans)
    labels = [token if trained else IGNORE for token, trained in zip(ids, flags, strict=True)]
    return Encoded(index=index, input_ids=ids, labels=labels)


def encode_records(
    records: list[dict[str, Any]], tokenizer, *, max_seq_len: int, overlength: str = "drop"
) -> EncodedSet:
    """Encode all records and apply the over-length policy; nothing is dropped silently.

    ``drop`` lists each long example in ``dropped`` with its length; ``truncate`` keeps the first
    ``max_seq_len`` tokens and lists it in ``truncated``; ``error`` raises :class:`OverlengthError`
    naming them all. Examples with no trained token (after truncation) are dropped and reported.
    """
    out = EncodedSet()
    too_long = []
    for index, record in enumerate(records):
        ex = encode(record, tokenizer, index=index)
        report = {"index": index, "length": len(ex.input_ids)}
        if "id" in record:
            report["id"] = record["id"]
        if len(ex.input_ids) > max_seq_len:
            if overlength == "drop":
                out.dropped.append({**report, "reason": DROP_TOO_LONG})
                continue
            if overlength == "error":
                too_long.append(report)
                continue
            ex.input_ids, ex.labels = ex.input_ids[:max_seq_len], ex.labels[:max_seq_len]
            out.truncated.append(report)
        # A label on the first token is never used (nothing predicts it), so it does not count.
        if all(label == IGNORE for label in ex.labels[1:]):
            out.dropped.append({**report, "reason": DROP_NOTHING_TO_LEARN})
            continue
        out.examples.append(ex)
    if too_long:
        listing = ", ".join(f"#{r['index']} ({r['length']} tokens)" for r in too_long[:20])
        more = f" and {len(too_long) - 20} more" if len(too_long) > 20 else ""
        message = ERR_OVERLENGTH.format(
            count=len(too_long), max_seq_len=max_seq_len, listing=listing + more
        )
        raise OverlengthError(message, too_long)
    return out


def preview(
    record: dict[str, Any], tokenizer, *, max_seq_len: int | None = None
) -> list[dict[str, Any]]:
    """What the model will see: one entry per token, ``{"id", "text", "trained", "kept"}``.

    The ``text`` pieces concatenate to the rendered conversation; ``trained`` marks tokens that
    carry a label; ``kept`` is false for tokens beyond ``max_seq_len`` (cut or dropped).
    """
    text, spans = trained_spans(record, tokenizer)
    ids, flags, offsets = _tokenize(tokenizer, text, spans)
    tokens = []
    for position, (token_id, trained, (start, end)) in enumerate(
        zip(ids, flags, offsets, strict=True)
    ):
        # Slice up to the next token's start so that pieces always rejoin into the full text.
        stop = offsets[position + 1][0] if position + 1 < len(offsets) else len(text)
        tokens.append(
            {
                "id": token_id,
                "text": text[start : max(stop, end)],
                "trained": trained,
                "kept": max_seq_len is None or position < max_seq_len,
            }
        )
    return tokens
