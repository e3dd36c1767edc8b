"""Whitespace made visible, for previews of fixes that only change whitespace.

Pure: two strings in, segments out. ``"hi \\n"`` and ``"hi"`` print the same in a browser; shown
through :func:`whitespace_diff` the first reads ``hi·↵`` with the ``·↵`` marked as removed.

A segment is ``(text, is_space, changed)``: ``text`` is what to print (a marker such as ``·``
for a whitespace character, followed by the real line break for a newline so lines still break),
``is_space`` says it stands for whitespace, ``changed`` that it lies in a part that differs
between before and after. Parts are found by aligning the runs of whitespace and of other
characters (difflib over runs, not characters: a trimmed end or a collapsed run is one run);
past ``MAX_RUNS`` runs it falls back to the span between the common prefix and suffix.

>>> before, after = whitespace_diff("hi \\n", "hi")
>>> "".join(t for t, _, _ in before), [t for t, _, changed in before if changed]
('hi·↵\\n', ['·', '↵\\n'])
>>> after
[('hi', False, False)]
"""

from __future__ import annotations

import re
from difflib import SequenceMatcher

MAX_RUNS = 4000
_RUNS = re.compile(r"\s+|\S+")

MARKERS = {
    " ": "·",
    "\t": "→",
    "\n": "↵\n",
    "\r": "␍",
    "\u00a0": "⍽",  # no-break space
    "\u200b": "␣",  # zero-width space
    "\u3000": "␣",
}
Segment = tuple[str, bool, bool]


def _marker(char: str) -> str | None:
    if char in MARKERS:
        return MARKERS[char]
    if char.isspace():
        return "␣"  # any other Unicode space or line separator
    return None


def _segments(text: str, changed: list[bool]) -> list[Segment]:
    out: list[Segment] = []
    run: list[str] = []
    run_changed = False

    def flush():
        if run:
            out.append(("".join(run), False, run_changed))
            run.clear()

    for i, char in enumerate(text):
        marker = _marker(char)
        if marker is not None:
            flush()
            out.append((marker, True, changed[i]))
            continue
        if run and changed[i] != run_changed:
            flush()
        run_changed = changed[i]
        run.append(char)
    flush()
    return out


def changed_masks(before: str, after: str) -> tuple[list[bool], list[bool]]:
    """Per character of ``before`` and of ``after``: whether it lies in a differing part."""
    runs_b, runs_a = _RUNS.findall(before), _RUNS.findall(after)
    if len(runs_b) + len(runs_a) > MAX_RUNS:
        (b0, b1), (a0, a1) = changed_spans(before, after)
        return (
            [b0 <= i < b1 for i in range(len(before))],
            [a0 <= i < a1 for i in range(len(after))],
        )
    mask_b, mask_a = [False] * len(before), [False] * len(after)
    starts_b = _starts(runs_b)
    starts_a = _starts(runs_a)
    matcher = SequenceMatcher(a=runs_b, b=runs_a, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        for k in range(starts_b[i1], starts_b[i2]):
            mask_b[k] = True
        for k in range(starts_a[j1], starts_a[j2]):
            mask_a[k] = True
    return mask_b, mask_a


def _starts(runs: list[str]) -> list[int]:
    starts = [0]
    for run in runs:
        starts.append(starts[-1] + len(run))
    return starts


def changed_spans(before: str, after: str) -> tuple[tuple[int, int], tuple[int, int]]:
    """``(start, end)`` of the differing part in ``before`` and in ``after``."""
    limit = min(len(before), len(after))
    prefix = 0
    while prefix < limit and before[prefix] == after[prefix]:
        prefix += 1
    suffix = 0
    while (
        suffix < limit - prefix
        and before[len(before) - 1 - suffix] == after[len(after) - 1 - suffix]
    ):
        suffix += 1
    return (prefix, len(before) - suffix), (prefix, len(after) - suffix)


def whitespace_diff(before: str | None, after: str | None) -> tuple[list[Segment], list[Segment]]:
    """Both texts as segments with their whitespace shown and their differing part marked;
    None (no text) gives no segments."""
    mask_b, mask_a = changed_masks(before or "", after or "")
    return (
        _segments(before, mask_b) if before is not None else [],
        _segments(after, mask_a) if after is not None else [],
    )
