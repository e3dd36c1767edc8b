"""Deterministic, stable train/validation/test assignment (DESIGN §3 "split assignment").

Pure module. The unit is a group: a duplicate cluster (``SplitItem.group``), or a single example.
A group's position is ``sha256("<seed>\\x00<group key>")`` read as a fraction in [0, 1) and
bucketed by the ratios in the order train, validation, test. The group key is the smallest member
key, as text.

Stability. Adding examples must never move existing ones, yet a new example can join an existing
cluster (and lower its smallest key) or bridge two clusters. So the position decides only for
groups with no pinned member. A member is pinned by its manual ``override`` (always kept) or, with
``keep_existing`` (the default), by its ``current`` split. Every pinned member keeps its split, and
the rest of a pinned group joins the split most of its pinned members hold (a tie goes to the
split of the pinned member with the smallest key). Two clusters that were split apart and are
later bridged keep their members where they were; the leakage report shows the pair.
``keep_existing=False`` re-splits from scratch, overrides still winning.

Stratification (``stratify=True``): each group belongs to the stratum of its smallest-key member.
Within a stratum, unpinned groups are taken in order of their position and each goes to the split
furthest below its share of the stratum so far, so even a stratum of ten examples gets its 80/10/10
as nearly as whole groups allow. The position still orders everything, so the result depends only
on the set of examples and the seed, never on input order; pinning keeps it stable as data grows.
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field

SPLITS = ("train", "validation", "test")
UNASSIGNED = "unassigned"
RATIO_TOLERANCE = 1e-6

EMPTY_RATIOS = "ratios must name at least one split"
UNKNOWN_SPLIT = "unknown split {name!r}; use train, validation or test"
NON_POSITIVE_RATIO = "ratio for {name!r} must be a positive number; got {value!r}"
RATIOS_DO_NOT_SUM = "ratios must sum to 1; they sum to {total:.6g}"
BAD_OVERRIDE = "override of {key!r} must be train, validation or test; got {value!r}"


class SplitConfigError(ValueError):
    """Bad ratios or overrides: the message says what to fix."""


@dataclass(frozen=True)
class SplitItem:
    """One example: a stable key (never reused), its duplicate group, stratum and splits."""

    key: Hashable
    group: Hashable | None = None
    stratum: Hashable | None = None
    current: str | None = None
    override: str | None = None


@dataclass
class SplitResult:
    assignments: dict = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    strata: dict = field(default_factory=dict)


def validate_ratios(ratios: Mapping[str, float]) -> dict[str, float]:
    """Ratios in canonical split order; positive, known names, summing to 1 (±1e-6)."""
    if not ratios:
        raise SplitConfigError(EMPTY_RATIOS)
    for name, value in ratios.items():
        if name not in SPLITS:
            raise SplitConfigError(UNKNOWN_SPLIT.format(name=name))
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        if not ok or not math.isfinite(value) or value <= 0:
            raise SplitConfigError(NON_POSITIVE_RATIO.format(name=name, value=value))
    total = math.fsum(ratios.values())
    if abs(total - 1.0) > RATIO_TOLERANCE:
        raise SplitConfigError(RATIOS_DO_NOT_SUM.format(total=total))
    return {name: float(ratios[name]) for name in SPLITS if name in ratios}


def position(seed: int | str, group_key: str) -> float:
    """sha256 of seed and group key as a fraction in [0, 1)."""
    digest = hashlib.sha256(f"{seed}\x00{group_key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def bucket(pos: float, ratios: dict[str, float]) -> str:
    cumulative = 0.0
    for name, share in ratios.items():
        cumulative += share
        if pos < cumulative:
            return name
    return next(reversed(ratios))  # rounding left pos just above the last bound


def _pinned_split(item: SplitItem, keep_existing: bool) -> str | None:
    if item.override is not None:
        return item.override
    if keep_existing and item.current in SPLITS:
        return item.current
    return None


def _group_items(items: list[SplitItem], use_groups: bool) -> list[list[SplitItem]]:
    groups: dict = {}
    for item in items:
        gid = ("g", item.group) if use_groups and item.group is not None else ("k", item.key)
        groups.setdefault(gid, []).append(item)
    out = [sorted(members, key=lambda m: m.key) for members in groups.values()]
    out.sort(key=lambda members: members[0].key)
    return out


def assign_splits(
    items: Iterable[SplitItem],
    *,
    ratios: Mapping[str, float],
    seed: int | str = 0,
    group_near_duplicates: bool = True,
    stratify: bool = False,
    keep_existing: bool = True,
) -> SplitResult:
    """Assign every item a split; see the module docstring for the rules."""
    shares = validate_ratios(ratios)
    items = list(items)
    for item in items:
        if item.override is not None and item.override not in SPLITS:
            raise SplitConfigError(BAD_OVERRIDE.format(key=item.key, value=item.override))
    assignments: dict = {}
    free: list[tuple[float, str, list[SplitItem]]] = []
    for members in _group_items(items, group_near_duplicates):
        pins = [(m.key, s) for m in members if (s := _pinned_split(m, keep_existing))]
        if pins:
            votes = Counter(s for _, s in pins)
            top = max(votes.values())
            group_split = next(s for _, s in pins if votes[s] == top)
            pinned = dict(pins)
            for m in members:
                assignments[m.key] = pinned.get(m.key, group_split)
        else:
            group_key = str(members[0].key)
            free.append((position(seed, group_key), group_key, members))
    free.sort(key=lambda entry: (entry[0], entry[1]))
    if stratify:
        _assign_balanced(free, items, shares, assignments)
    else:
        for pos, _, members in free:
            split = bucket(pos, shares)
            for m in members:
                assignments[m.key] = split
    return _result(items, assignments)


def _assign_balanced(free, items, shares, assignments) -> None:
    # pinned examples count toward their stratum first, so new groups fill what is missing
    counts: dict = {}
    for item in items:
        if item.key in assignments:
            counts.setdefault(item.stratum, Counter())[assignments[item.key]] += 1
    for _, _, members in free:
        have = counts.setdefault(members[0].stratum, Counter())
        done = sum(have.values()) + len(members)
        # the split furthest below its share once this group is placed; ties in split order
        split = max(shares, key=lambda s: (shares[s] * done - have[s], -SPLITS.index(s)))
        have[split] += len(members)
        for m in members:
            assignments[m.key] = split


def _result(items: list[SplitItem], assignments: dict) -> SplitResult:
    counts = Counter(assignments[item.key] for item in items)
    strata: dict = {}
    for item in items:
        strata.setdefault(item.stratum, Counter())[assignments[item.key]] += 1
    return SplitResult(
        assignments=assignments,
        counts={s: counts.get(s, 0) for s in SPLITS},
        strata={k: {s: c.get(s, 0) for s in SPLITS} for k, c in strata.items()},
    )
