"""Safe automatic fixes: pure functions that return new content and a list of changes to preview.

A fix removes or rewrites only what its name says (whitespace at the ends, control characters,
invisible characters, the Unicode normal form, an empty system message) or adds what is implied
(weight 1). ``apply_fixes`` never mutates its input; its change paths refer to the input's
message indices (fixes that drop messages run last for that reason).

On ``fill_weight_defaults``: under OpenAI's rules an assistant turn without ``weight`` is trained
(weight 1), so filling 1 does not change what is trained there; it makes the intent explicit for
exports to trainers that read a missing weight differently (e.g. last-turn-only defaults). It
changes the content hash, so it is offered only where weights are partly set
(rule ``weight_partially_set``), never as a blanket rewrite.
"""

from __future__ import annotations

import copy
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from datasets_app.checks import patterns as p

UNKNOWN_FIX = "unknown fix id {fix_id!r}; known: {known}"


@dataclass(frozen=True)
class Change:
    path: str
    before: Any
    after: Any  # None when the fix removed the item at path

    def as_dict(self) -> dict:
        return {"path": self.path, "before": self.before, "after": self.after}


@dataclass(frozen=True)
class FixResult:
    content: dict
    changes: list[Change]

    @property
    def changed(self) -> bool:
        return bool(self.changes)


@dataclass(frozen=True)
class Fix:
    id: str
    title: str
    apply: Callable[[dict, list], None]  # mutates its (private) copy, records Change objects


def _map_texts(transform: Callable[[str], str]) -> Callable[[dict, list], None]:
    def apply(content: dict, changes: list) -> None:
        for i, message in enumerate(content.get("messages") or []):
            if not isinstance(message, dict) or not isinstance(message.get("content"), str):
                continue
            before = message["content"]
            after = transform(before)
            if after != before:
                message["content"] = after
                changes.append(Change(f"messages[{i}].content", before, after))

    return apply


def _fill_weights(content: dict, changes: list) -> None:
    for i, message in enumerate(content.get("messages") or []):
        if (
            isinstance(message, dict)
            and message.get("role") == "assistant"
            and "weight" not in message
        ):
            message["weight"] = 1
            changes.append(Change(f"messages[{i}].weight", None, 1))


def _drop_empty_system(content: dict, changes: list) -> None:
    messages = content.get("messages")
    if not isinstance(messages, list):
        return
    dropped = [
        i
        for i, message in enumerate(messages)
        if isinstance(message, dict)
        and message.get("role") == "system"
        and isinstance(message.get("content"), str)
        and not message["content"].strip()
    ]
    if not dropped or len(dropped) == len(messages):  # never leave an example without messages
        return
    changes.extend(Change(f"messages[{i}]", messages[i], None) for i in dropped)
    gone = set(dropped)
    content["messages"] = [m for i, m in enumerate(messages) if i not in gone]


# Order matters: character removal before trimming (a trailing control char hides whitespace),
# drops last so earlier change paths keep the input's indices.
FIXES: dict[str, Fix] = {
    fix.id: fix
    for fix in (
        Fix(
            "remove_control_characters",
            "Remove control characters",
            _map_texts(lambda t: p.CONTROL.sub("", t)),
        ),
        Fix(
            "remove_invalid_characters",
            "Remove invisible and invalid characters",
            _map_texts(lambda t: p.REMOVABLE_INVALID.sub("", t)),
        ),
        Fix(
            "normalize_unicode",
            "Normalize Unicode to NFC",
            _map_texts(lambda t: unicodedata.normalize("NFC", t)),
        ),
        Fix("trim_whitespace", "Trim leading and trailing whitespace", _map_texts(str.strip)),
        Fix("fill_weight_defaults", "Set weight 1 on assistant turns without one", _fill_weights),
        Fix("drop_empty_system_message", "Drop empty system messages", _drop_empty_system),
    )
}


def apply_fixes(content: dict, fix_ids: Iterable[str]) -> FixResult:
    """Apply the named fixes (in the fixed safe order, whatever the order given) to a copy."""
    wanted = set(fix_ids)
    unknown = wanted - FIXES.keys()
    if unknown:
        raise ValueError(UNKNOWN_FIX.format(fix_id=sorted(unknown)[0], known=", ".join(FIXES)))
    fixed = copy.deepcopy(content)
    changes: list[Change] = []
    for fix_id, fix in FIXES.items():
        if fix_id in wanted:
            fix.apply(fixed, changes)
    return FixResult(fixed, changes)
