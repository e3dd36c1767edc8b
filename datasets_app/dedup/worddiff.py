"""Word-level difference of two texts, for showing duplicate cluster members side by side. Pure.

Words are compared exactly (case and punctuation count); any run of whitespace compares equal
to any other, so reflowed text is not a difference. The segments other than ``del`` joined back
give the new text exactly.

>>> word_diff("the cat sat", "the dog sat")
[('same', 'the '), ('del', 'cat'), ('ins', 'dog'), ('same', ' sat')]
"""

from __future__ import annotations

import re
from difflib import SequenceMatcher

SAME, INSERTED, DELETED = "same", "ins", "del"
_TOKEN = re.compile(r"\S+|\s+")


def _key(token: str) -> str:
    return token if not token.isspace() else " "


def word_diff(reference: str, other: str) -> list[tuple[str, str]]:
    """Segments ``(kind, text)`` turning ``reference`` into ``other``: ``same`` text is in both,
    ``del`` only in ``reference``, ``ins`` only in ``other``; neighbours of one kind are merged."""
    a, b = _TOKEN.findall(reference), _TOKEN.findall(other)
    matcher = SequenceMatcher(a=[_key(t) for t in a], b=[_key(t) for t in b], autojunk=False)
    segments: list[tuple[str, str]] = []

    def add(kind: str, words: list[str]) -> None:
        text = "".join(words)
        if not text:
            return
        if segments and segments[-1][0] == kind:
            segments[-1] = (kind, segments[-1][1] + text)
        else:
            segments.append((kind, text))

    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            add(SAME, b[j1:j2])
        else:
            add(DELETED, a[i1:i2])
            add(INSERTED, b[j1:j2])
    return segments
