"""A small per-example record for the dataset-level rules, computed purely from content.

The lead builds one per stored row (or the report builds them while checking); dataset rules
never look at full contents again. Hashes over normalized text use xxh3 (fast, not
cryptographic: they only group examples within one dataset).
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass

import orjson
import xxhash

from datasets_app.canonical import content_hash as canonical_content_hash
from datasets_app.checks import patterns as p

FIRST_USER_MAX_CHARS = 4000  # enough for any shared instruction prefix worth reporting
_SHORT_ANSWER_WORDS = 3  # labels and numbers have no sentence ending to be consistent about


@dataclass(frozen=True, slots=True)
class AnswerStyle:
    """Style features of the final answer; None where a feature does not apply."""

    terminal_punctuation: bool | None  # ends with . ! ? (prose answers of 3+ words only)
    markdown: bool
    json: bool
    trailing_newline: bool


@dataclass(frozen=True, slots=True)
class ExampleSummary:
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


def _normalized_hash(text: str) -> str:
    # strip + casefold only: collapsing inner whitespace costs more than the rest of the summary
    return xxhash.xxh3_64_hexdigest(text.strip().casefold().encode("utf-8", "surrogatepass"))


def _has_markdown(text: str) -> bool:
    # literal screens first; the line-anchored regex only confirms
    if "**" in text or "```" in text:
        return True
    if not (text[:1] in p.MARKDOWN_LINE_STARTS or "\n" in text):
        return False
    return p.MARKDOWN.search(text) is not None


def answer_style(answer: str) -> AnswerStyle:
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
    return AnswerStyle(
        terminal_punctuation=terminal,
        markdown=not is_json and _has_markdown(stripped),
        json=is_json,
        trailing_newline=answer.endswith("\n"),
    )


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
        answer_hash = _normalized_hash(answer)
        style = answer_style(answer)
        prompt_hash = _normalized_hash(
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
    )
