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
from bisect import bisect_right
from collections import Counter
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from operator import itemgetter
from typing import NamedTuple

SPLITS = ("train", "validation", "test")
UNASSIGNED = "unassigned"
RATIO_TOLERANCE = 1e-6

EMPTY_RATIOS = "ratios must name at least one split"
UNKNOWN_SPLIT = "unknown split {name!r}; use train, validation or test"
NON_POSITIVE_RATIO = "ratio for {name!r} must be a positive number; got {value!r}"
RATIOS_DO_NOT_SUM = "ratios must sum to 1; they sum to {total:.6g}"
BAD_OVERRIDE = "override of {key!r} must be train, validation or test; got {value!r}"
_KEY = itemgetter(0)


class SplitConfigError(ValueError):
    """Bad ratios or overrides: the message says what to fix."""


class SplitItem(NamedTuple):
    """One example: a stable key (never reused), its duplicate group, stratum and splits.

    A named tuple, so a caller with 100,000 rows may pass plain ``(key, group, stratum, current,
    override)`` tuples instead and skip building these.
    """

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


def _bounds(ratios: dict[str, float]) -> list[float]:
    """Cumulative shares in split order: a position belongs to the first split whose bound
    exceeds it (the last split when rounding leaves it just above the last bound)."""
    bounds, cumulative = [], 0.0
    for share in ratios.values():
        cumulative += share
        bounds.append(cumulative)
    return bounds


def _pinned_split(item: tuple, keep_existing: bool) -> str | None:
    if item[4] is not None:  # override
        return item[4]
    if keep_existing and item[3] in SPLITS:  # current
        return item[3]
    return None


def _units(items: list[tuple], use_groups: bool) -> list:
    """Groups in order of their smallest key, members by key; a group of one is the item itself.

    Keys are unique, so one sort of the items orders both the groups and their members.
    """
    if len(set(map(_KEY, items))) != len(items):
        return _units_with_repeated_keys(items, use_groups)
    units: list = []
    grouped: dict = {}
    for item in sorted(items, key=_KEY):
        group = item[1]
        if use_groups and group is not None:
            members = grouped.get(group)
            if members is None:
                members = grouped[group] = []
                units.append(members)
            members.append(item)
        else:
            units.append(item)
    return units


def _units_with_repeated_keys(items: list[tuple], use_groups: bool) -> list:
    # a repeated key is one group (outside a duplicate group), as it always was
    groups: dict = {}
    for item in items:
        gid = ("g", item[1]) if use_groups and item[1] is not None else ("k", item[0])
        groups.setdefault(gid, []).append(item)
    out = [sorted(members, key=_KEY) for members in groups.values()]
    out.sort(key=lambda members: members[0][0])
    return out


def assign_splits(
    items: Iterable[SplitItem | tuple],
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
        if item[4] is not None and item[4] not in SPLITS:
            raise SplitConfigError(BAD_OVERRIDE.format(key=item[0], value=item[4]))
    assignments: dict = {}
    free: list[tuple[float, str, list]] = []
    prefix = f"{seed}\x00"
    sha256 = hashlib.sha256
    from_bytes = int.from_bytes
    for unit in _units(items, group_near_duplicates):
        if isinstance(unit, list):
            members = unit
            pins = [(m[0], s) for m in members if (s := _pinned_split(m, keep_existing))]
        else:  # a group of one, most of them: _pinned_split inlined
            members = (unit,)
            pin = unit[4] if unit[4] is not None else unit[3] if keep_existing else None
            pins = [(unit[0], pin)] if pin in SPLITS else None
        if pins:
            votes = Counter(s for _, s in pins)
            top = max(votes.values())
            group_split = next(s for _, s in pins if votes[s] == top)
            pinned = dict(pins)
            for m in members:
                assignments[m[0]] = pinned.get(m[0], group_split)
        else:
            # position(seed, group_key), inlined: it runs once per free group
            group_key = str(members[0][0])
            digest = sha256((prefix + group_key).encode()).digest()
            free.append((from_bytes(digest[:8], "big") / 2**64, group_key, members))
    free.sort(key=itemgetter(0, 1))
    if stratify:
        _assign_balanced(free, items, shares, assignments)
    else:
        names = list(shares)
        bounds = _bounds(shares)
        last = len(names) - 1
        for pos, _, members in free:
            split = names[min(bisect_right(bounds, pos), last)]
            for m in members:
                assignments[m[0]] = split
    return _result(items, assignments)


def _assign_balanced(free, items, shares, assignments) -> None:
    # pinned examples count toward their stratum first, so new groups fill what is missing
    counts: dict = {}
    for item in items:
        split = assignments.get(item[0])
        if split is not None:
            have = counts.get(item[2])
            if have is None:
                have = counts[item[2]] = Counter()
            have[split] += 1
    order = {name: -SPLITS.index(name) for name in shares}
    for _, _, members in free:
        have = counts.get(members[0][2])
        if have is None:
            have = counts[members[0][2]] = Counter()
        done = sum(have.values()) + len(members)
        # the split furthest below its share once this group is placed; ties in split order
        split = max(shares, key=lambda s: (shares[s] * done - have[s], order[s]))
        have[split] += len(members)
        for m in members:
            assignments[m[0]] = split


def _result(items: list[tuple], assignments: dict) -> SplitResult:
    per_stratum = Counter((item[2], assignments[item[0]]) for item in items)
    counts = dict.fromkeys(SPLITS, 0)
    strata: dict = {}
    for (stratum, split), n in per_stratum.items():
        counts[split] += n
        if stratum not in strata:
            strata[stratum] = dict.fromkeys(SPLITS, 0)
        strata[stratum][split] += n
    return SplitResult(assignments=assignments, counts=counts, strata=strata)
