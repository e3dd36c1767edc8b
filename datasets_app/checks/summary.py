"""A small per-example record for the dataset-level rules, computed purely from content.

The lead builds one per stored row (or the report builds them while checking); dataset rules
never look at full contents again. Hashes over normalized text use xxh3 (fast, not
cryptographic: they only group examples within one dataset).
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import NamedTuple

import orjson
import xxhash

from datasets_app.canonical import content_hash as canonical_content_hash
from datasets_app.checks import patterns as p
from datasets_app.checks.preference import PairSummary, pair_summary

FIRST_USER_MAX_CHARS = 4000  # enough for any shared instruction prefix worth reporting
_SHORT_ANSWER_WORDS = 3  # labels and numbers have no sentence ending to be consistent about


class AnswerStyle(NamedTuple):
    """Style features of the final answer; None where a feature does not apply."""

    terminal_punctuation: bool | None  # ends with . ! ? (prose answers of 3+ words only)
    markdown: bool
    json: bool
    trailing_newline: bool


class ExampleSummary(NamedTuple):
    """One example as the dataset rules see it (a named tuple: the report builds 100,000s)."""

    key: Hashable
    content_hash: str | None
    source_format: str | None
    has_system: bool
    has_user: bool
    system_prompt: str | None  # content of the first system message
    first_user: str | None  # first user message, cut at FIRST_USER_MAX_CHARS
    prompt_hash: str | None  # normalized text of every turn before the final answer
    answer_hash: str | None  # normalized final assistant answer
    answer_style: AnswerStyle | None
    pair: PairSummary | None = None  # preference examples only (the pair rules' inputs)


_STYLES: dict[tuple, AnswerStyle] = {}


def normalized_hash(text: str) -> str:
    # strip + casefold only: collapsing inner whitespace costs more than the rest of the summary
    return xxhash.xxh3_64_hexdigest(text.strip().casefold().encode("utf-8", "surrogatepass"))


def has_markdown(text: str) -> bool:
    # literal screens first; the line-anchored regex only confirms
    if "**" in text or "```" in text:
        return True
    if text[:1] in p.MARKDOWN_LINE_STARTS and p.MARKDOWN_FIRST_LINE.match(text):
        return True
    return "\n" in text and p.MARKDOWN_LATER_LINE.search(text) is not None


def answer_style(answer: str, *, markdown: bool | None = None) -> AnswerStyle:
    """The style of ``answer``; ``markdown`` may carry ``has_markdown(answer.rstrip())`` when the
    caller computed it already (the report does, for a chunk of answers at once)."""
    stripped = answer.rstrip()
    is_json = False
    if stripped[:1] in ("{", "[") and stripped[-1:] in ("}", "]"):
        try:
            orjson.loads(stripped)
            is_json = True
        except orjson.JSONDecodeError:
            pass
    terminal = None
    if (
        not is_json
        and not stripped.endswith("```")
        and len(stripped.split(None, _SHORT_ANSWER_WORDS)) >= _SHORT_ANSWER_WORDS
    ):
        tail = stripped.rstrip(p.CLOSERS)
        terminal = tail[-1:] in p.TERMINAL_PUNCTUATION
    if is_json:
        markdown = False
    elif markdown is None:
        markdown = has_markdown(stripped)
    # 24 styles exist; each is built once and shared (they are immutable)
    key = (terminal, markdown, is_json, answer.endswith("\n"))
    style = _STYLES.get(key)
    if style is None:
        style = _STYLES[key] = AnswerStyle(*key)
    return style


def summarize_example(
    key: Hashable,
    content: dict,
    *,
    source_format: str | None = None,
    content_hash: str | None = None,
) -> ExampleSummary:
    """Summarize canonical (or at least structurally usable) content.

    ``content_hash`` is taken as given when the caller has it stored; otherwise it is computed
    with :func:`datasets_app.canonical.content_hash` (None when the content is not hashable).
    """
    messages = content.get("messages") if isinstance(content, dict) else None
    if not isinstance(messages, list):
        messages = []
    messages = [m for m in messages if isinstance(m, dict)]
    if content_hash is None and messages:
        try:
            content_hash = canonical_content_hash(messages, content.get("tools"))
        except TypeError:
            content_hash = None
    system_prompt = first_user = None
    has_system = has_user = False
    final_index = None
    for i, message in enumerate(messages):
        role = message.get("role")
        text = message.get("content")
        if role == "system":
            if not has_system and isinstance(text, str):
                system_prompt = text
            has_system = True
        elif role == "user":
            if not has_user and isinstance(text, str):
                first_user = text[:FIRST_USER_MAX_CHARS]
            has_user = True
        elif role == "assistant" and isinstance(text, str) and text.strip():
            final_index = i
    prompt_hash = answer_hash = style = None
    if final_index is not None:
        answer = messages[final_index]["content"]
        answer_hash = normalized_hash(answer)
        style = answer_style(answer)
        prompt_hash = normalized_hash(
            "\n".join(f"{m.get('role')}: {m.get('content') or ''}" for m in messages[:final_index])
        )
    return ExampleSummary(
        key=key,
        content_hash=content_hash,
        source_format=source_format,
        has_system=has_system,
        has_user=has_user,
        system_prompt=system_prompt,
        first_user=first_user,
        prompt_hash=prompt_hash,
        answer_hash=answer_hash,
        answer_style=style,
        pair=pair_summary(content),
    )


def summarize_clean(
    key: Hashable,
    messages: list[dict],
    texts: list[str],
    first_user: str,
    *,
    source_format: str | None = None,
    content_hash: str | None = None,
    markdown: bool | None = None,
) -> ExampleSummary:
    """:func:`summarize_example` of a clean conversation, known to be one by the caller: the
    system message, if any, comes first, ``texts`` are every message's non-blank content in
    order, ``first_user`` is the first user text and the last message is the final answer.
    ``markdown`` is passed on to :func:`answer_style`."""
    if content_hash is None:
        try:
            content_hash = canonical_content_hash(messages, None)
        except TypeError:
            content_hash = None
    answer = texts[-1]
    has_system = messages[0]["role"] == "system"
    if len(texts) == 2:  # most conversations: one question, one answer
        prompt = f"{messages[0]['role']}: {texts[0]}"
    else:
        prompt = "\n".join([f"{m['role']}: {m['content']}" for m in messages[:-1]])
    return ExampleSummary(
        key,
        content_hash,
        source_format,
        has_system,
        True,
        texts[0] if has_system else None,
        first_user[:FIRST_USER_MAX_CHARS],
        normalized_hash(prompt),
        normalized_hash(answer),
        answer_style(answer, markdown=markdown),
    )
