"""The report's pass over the examples: tokens, every example rule and the summary.

Examples are short (a few hundred bytes), so what the report costs beyond tokenizing is fixed
Python work per example. Examples are taken a chunk at a time. One loop per example counts its
tokens and recognises the common case, a well-formed conversation on which no structure,
conversation, answer or length rule fires; the content rules then screen the texts of all such
examples of the chunk at once (:mod:`.batch_screen`), and their summaries come from
:func:`summarize_clean`. Every other example is checked by :func:`check_example` and summarized
by :func:`summarize_example`. The screens may doubt a clean example but never clear a faulty
one, and a flagged clean example gets :func:`check_texts`' findings, which are all
:func:`check_example` would report for it; the tests compare both paths on generated examples.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Iterator
from itertools import islice
from typing import Any, NamedTuple

from datasets_app.canonical import ROLES
from datasets_app.checks import patterns as p
from datasets_app.checks.answer_schema import SchemaBudget
from datasets_app.checks.batch_screen import any_text_findings, markdown_flags
from datasets_app.checks.content import check_final_answer, check_texts
from datasets_app.checks.example import check_example
from datasets_app.checks.preference import is_preference
from datasets_app.checks.registry import Finding
from datasets_app.checks.settings import CheckSettings
from datasets_app.checks.summary import ExampleSummary, summarize_clean, summarize_example
from datasets_app.tokens.counting import (
    PRIMING_TOKENS,
    TOKENS_PER_MESSAGE,
    ExampleTokens,
    message_tokens,
    role_tokens,
)

# Keys that no structure or conversation rule looks at beyond their presence.
_PLAIN_EXAMPLE_KEYS = frozenset({"messages", "metadata"})
_PLAIN_MESSAGE_KEYS = frozenset({"role", "content", "name"})
# casefold never shortens a string, so a longer answer cannot be a placeholder answer.
_LONGEST_PLACEHOLDER = max(map(len, p.PLACEHOLDER_ANSWERS))


class ExampleInput(NamedTuple):
    key: Hashable
    content: Any
    source_format: str | None = None
    content_hash: str | None = None  # pass the stored hash to skip recomputing it


_NONE: list = []  # shared by the examples without findings; never appended to
CHUNK_SIZE = 4096  # examples per RE2 screen: compiling its patterns costs ~0.5 ms a chunk


def scan_examples(
    items: Iterable, settings: CheckSettings, encoding
) -> Iterator[tuple[Hashable, ExampleTokens | None, list[Finding], ExampleSummary | None]]:
    """``(key, tokens, findings, summary)`` per ``(key, content[, source_format[, content_hash]])``.

    ``tokens`` and ``summary`` are None when the messages are not a non-empty list of objects
    (the report leaves such examples out of the statistics and dataset rules).
    """
    for keys, tokens, findings, summaries in scan_chunks(items, settings, encoding):
        yield from zip(keys, tokens, findings, summaries, strict=True)


def scan_chunks(items: Iterable, settings: CheckSettings, encoding) -> Iterator[tuple[list, ...]]:
    """:func:`scan_examples` as parallel lists ``(keys, tokens, findings, summaries)``, a chunk
    of CHUNK_SIZE examples at a time (the content screen runs once per chunk). The dataset's
    answer schema, if any, gets one time budget for the whole scan."""
    role_cost = {role: role_tokens(role, encoding) for role in ROLES}
    budget = SchemaBudget()
    iterator = iter(items)
    while chunk := list(islice(iterator, CHUNK_SIZE)):
        yield _scan_chunk(chunk, settings, encoding, role_cost, budget)


def _scan_chunk(
    chunk: list, settings: CheckSettings, encoding, role_cost: dict, budget: SchemaBudget
) -> tuple:
    items = [item if len(item) == 4 else ExampleInput(*item) for item in chunk]
    keys = [item[0] for item in items]
    # Tokenize the chunk in a loop of its own (with the cheap turn-order screen): interleaved
    # with the content rules, the encoder's tables fall out of the CPU caches.
    plain = settings.assistant_json_schema is None
    first = [_first_pass(item[1], settings, encoding, role_cost, plain) for item in items]
    tokens = [t for t, _, _ in first]
    findings: list = [_NONE] * len(items)
    summaries: list = [None] * len(items)
    pending = []
    for i, (item, (counted, texts, first_user)) in enumerate(zip(items, first, strict=True)):
        if counted is None:
            findings[i] = check_example(item[1], settings, schema_budget=budget)
        elif texts is None or is_preference(item[1]):
            findings[i], summaries[i] = _checked(item, settings, counted, budget, encoding)
        else:
            pending.append((i, texts, first_user))
    flags = any_text_findings([texts for _, texts, _ in pending], settings)
    markdown = markdown_flags([texts[-1].rstrip() for _, texts, _ in pending])
    for (i, texts, first_user), flag, md in zip(pending, flags, markdown, strict=True):
        key, content, source_format, content_hash = items[i]
        messages = content["messages"]
        summaries[i] = summarize_clean(
            key,
            messages,
            texts,
            first_user,
            source_format=source_format,
            content_hash=content_hash,
            markdown=md,
        )
        final: list = []
        check_final_answer(texts[-1], f"messages[{len(texts) - 1}].content", final)
        if flag or final:
            findings[i] = _text_findings(messages, texts, settings, final)
    return keys, tokens, findings, summaries


def _checked(item, settings: CheckSettings, tokens: ExampleTokens, budget, encoding) -> tuple:
    key, content, source_format, content_hash = item
    findings = check_example(
        content, settings, tokens=tokens, encoding=encoding, schema_budget=budget
    )
    summary = summarize_example(
        key, content, source_format=source_format, content_hash=content_hash
    )
    return findings, summary


def _text_findings(
    messages: list[dict], texts: list[str], settings: CheckSettings, final: list
) -> list:
    # A clean conversation's findings are those of its texts and then of its final answer
    # (``final``, already checked): check_example adds none to them, in this order.
    out: list = []
    paths = [
        (f"messages[{i}].content", message["role"], text)
        for i, (message, text) in enumerate(zip(messages, texts, strict=True))
    ]
    check_texts(paths, settings, out)
    out += final
    if settings.disabled_rules:
        out = [f for f in out if f.rule_id not in settings.disabled_rules]
    return out


def _first_pass(content, settings: CheckSettings, encoding, role_cost: dict, plain: bool) -> tuple:
    """``(tokens, texts, first user text)``: tokens None unless the messages are a non-empty list
    of objects (:func:`count_example_tokens` of them otherwise); texts None unless every
    structure, conversation, answer and length rule is silent, and then every message's content.

    Silent means: only messages (and metadata); every message an object with a string role and
    content (and maybe a name); at most one system message and first; user and assistant
    alternating from a user turn to a final assistant turn; no answer short or a placeholder.
    """
    messages = content.get("messages") if isinstance(content, dict) else None
    if not isinstance(messages, list) or not messages:
        return None, None, None
    encode = encoding.encode_ordinary
    min_answer = settings.min_answer_chars
    clean = plain and content.keys() <= _PLAIN_EXAMPLE_KEYS
    total = assistant = 0
    has_system = has_user = False
    prev = first_user = None
    texts = []
    for message in messages:
        if not isinstance(message, dict):
            return None, None, None
        role = message.get("role")
        text = message.get("content")
        if len(message) == 2 and type(text) is str and type(role) is str:
            n = len(encode(text))
            cost = role_cost.get(role)
            total += (
                TOKENS_PER_MESSAGE + n + (role_tokens(role, encoding) if cost is None else cost)
            )
            if role == "assistant":
                assistant += n
        else:
            message_total, message_assistant = message_tokens(message, encoding)
            total += message_total
            assistant += message_assistant
            if not (type(text) is str and message.keys() <= _PLAIN_MESSAGE_KEYS):
                clean = False
        if role == "user":
            has_user = True
            if prev == "user":
                clean = False
            elif first_user is None:
                first_user = text
        elif role == "assistant":
            if prev == "assistant" or not has_user:
                clean = False
            elif clean and (
                len(text) < min_answer
                or (
                    len(text) <= _LONGEST_PLACEHOLDER
                    and text.strip().casefold() in p.PLACEHOLDER_ANSWERS
                )
            ):
                clean = False
        elif role == "system":
            has_system = True
            if prev is not None:
                clean = False
        else:
            clean = False
        prev = role
        texts.append(text)
    tokens = ExampleTokens(len(messages), total + PRIMING_TOKENS, assistant, has_system, has_user)
    if not clean or prev != "assistant" or tokens.total_tokens > settings.target_context_tokens:
        return tokens, None, None
    return tokens, texts, first_user
