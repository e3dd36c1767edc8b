"""Leakage report: duplicate pairs whose members sit in different splits. Pure module."""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass

from datasets_app.splits.assign import SPLITS


@dataclass(frozen=True, order=True)
class LeakagePair:
    a: Hashable
    b: Hashable
    a_split: str
    b_split: str
    kind: str
    similarity: float


def leakage_report(
    pairs: Iterable[tuple[Hashable, Hashable, str, float]], assignments: Mapping[Hashable, str]
) -> list[LeakagePair]:
    """Pairs ``(a, b, kind, similarity)`` whose members are both in a split, and not the same
    one. Members that are unassigned or unknown do not leak. Sorted, each pair once."""
    found = set()
    for a, b, kind, similarity in pairs:
        if b < a:
            a, b = b, a
        sa, sb = assignments.get(a), assignments.get(b)
        if sa in SPLITS and sb in SPLITS and sa != sb:
            found.add(LeakagePair(a, b, sa, sb, kind, similarity))
    return sorted(found)
