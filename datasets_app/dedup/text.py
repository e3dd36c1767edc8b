"""Normalized text, field selection and exact keys (DESIGN §3 "exact duplicate").

Pure module. The normalized text of a string is NFKC, case-folded, NFKC again (case folding can
produce sequences that NFKC would rewrite, and normalizing twice keeps the function idempotent),
with every run of Unicode whitespace collapsed to one space and no leading or trailing space.

The text of an example is built from its canonical messages only, so tools, metadata, roles and
names never leak into it and the same content imported from different formats gives the same key:
an Alpaca row imported as user("instruction\\n\\ninput") / assistant(output) and a chat file with
those two messages have equal keys.

Fields:

- ``conversation`` (default): the text of every message, joined by newlines;
- ``prompt``: system, user and tool messages (everything the model reads);
- ``response``: assistant messages (everything the model writes).

The text of a message is its content; an assistant message's tool calls are part of what the
model writes, so each call adds a line ``"<function name> <arguments>"`` after the content (or
instead of it when the content is null). Without that, two examples that differ only in which tool
they call would count as exact duplicates.
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Mapping, Sequence

FIELDS = ("conversation", "prompt", "response")
PROMPT_ROLES = frozenset({"system", "user", "tool"})
RESPONSE_ROLES = frozenset({"assistant"})
SHINGLE_WORDS = 5

UNKNOWN_FIELDS = "fields must be one of conversation, prompt, response; got {fields!r}"


def normalize_text(text: str) -> str:
    """NFKC, case-folded, whitespace collapsed. Idempotent."""
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())
    return " ".join(folded.split())


def message_text(message: Mapping) -> str:
    """The raw text a message contributes: its content, then one line per tool call."""
    parts = []
    if message.get("content"):
        parts.append(message["content"])
    for call in message.get("tool_calls") or ():
        function = call.get("function") or {}
        parts.append(f"{function.get('name', '')} {function.get('arguments', '')}")
    return "\n".join(parts)


def _roles_for(fields: str) -> frozenset[str] | None:
    if fields == "conversation":
        return None
    if fields == "prompt":
        return PROMPT_ROLES
    if fields == "response":
        return RESPONSE_ROLES
    raise ValueError(UNKNOWN_FIELDS.format(fields=fields))


def example_text(messages: Sequence[Mapping], fields: str = "conversation") -> str:
    """Normalized text of the chosen fields of one example's canonical messages."""
    roles = _roles_for(fields)
    chosen = (m for m in messages if roles is None or m.get("role") in roles)
    return normalize_text("\n".join(message_text(m) for m in chosen))


def exact_key(normalized: str) -> str:
    """sha256 (hex) of an already normalized text: equal keys are exact duplicates."""
    return hashlib.sha256(normalized.encode("utf-8")).hexdigest()


def example_exact_key(messages: Sequence[Mapping], fields: str = "conversation") -> str:
    """Exact-duplicate key of one example for the chosen fields."""
    return exact_key(example_text(messages, fields))


def shingles(normalized: str) -> set[tuple[str, ...]]:
    """Word 5-gram shingles of a normalized text.

    A text of one to four words has a single shingle, the whole text, so it can only match a
    text with exactly the same words; an empty text has no shingles.
    """
    words = normalized.split()
    if len(words) < SHINGLE_WORDS:
        return {tuple(words)} if words else set()
    return set(zip(*(words[k:] for k in range(SHINGLE_WORDS)), strict=False))


def jaccard(a: set, b: set) -> float:
    """|a ∩ b| / |a ∪ b|; two empty sets are identical, so 1.0."""
    if not a and not b:
        return 1.0
    inter = len(a & b)
    return inter / (len(a) + len(b) - inter)


def exact_groups(keys: Mapping) -> list[list]:
    """Members sharing an exact key, as sorted lists of two or more, ordered by first member."""
    by_key: dict[str, list] = {}
    for member, key in keys.items():
        by_key.setdefault(key, []).append(member)
    groups = [sorted(members) for members in by_key.values() if len(members) > 1]
    return sorted(groups, key=lambda g: g[0])
