"""A coverage plan's arithmetic (issue 22): target shares of buckets (a topic cluster, a tag, a
metadata value) against the examples a dataset holds, and the gap in examples. Pure: plain data
in and out, no Django; exact (fractions), so a gap is never off by one from rounding.

A target says what share of the examples in its scope (the whole dataset, or one split) should
fall in its bucket:

- ``about``: ``share`` ± ``tolerance`` (both in percent), e.g. 20 % ± 2;
- ``min``: at least ``share``;
- ``max``: at most ``share``.

The gap is counted in examples of the bucket: ``add`` is the fewest to add (to the bucket, so
to the scope too) to reach the lower bound; ``remove`` the fewest to remove or deprioritize to
get under the upper bound. Worked example: 100 examples, 10 tagged ``refunds``, target about
20 % ± 0: add x with (10 + x) / (100 + x) >= 1/5, so x = 13 (23/113 = 20.4 %, 22/112 = 19.6 %).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction

KINDS = ("topic", "tag", "metadata")
MODES = ("about", "min", "max")
ALL = ""  # the scope of a target over every split
MAX_TOLERANCE = 50

SHARE_RANGE = "must be a number from 0 to 100 (percent), at most two decimals."
TOLERANCE_RANGE = "must be a number from 0 to 50 (percent), at most two decimals."
TOLERANCE_ONLY_ABOUT = "only an 'about' target has a tolerance; leave it 0 for min and max."
SUM_OVER = (
    "the {family} targets{scope} ask for at least {total}% of the examples together, more than "
    "100%; an example is in only one {unit}, so lower some of them."
)
DUPLICATE = "this bucket already has a target{scope} (target {other}); change that one instead."


@dataclass(frozen=True)
class Bucket:
    kind: str  # topic | tag | metadata
    value: str  # the topic number, the tag's name, the metadata value as text
    key: str = ""  # the metadata key; empty otherwise

    def describe(self) -> str:
        if self.kind == "topic":
            return f"topic {self.value}"
        if self.kind == "tag":
            return f"tag {self.value!r}"
        return f"metadata {self.key} = {self.value!r}"


@dataclass(frozen=True)
class Target:
    bucket: Bucket
    mode: str
    share: Fraction  # percent, 0..100
    tolerance: Fraction = Fraction(0)
    split: str = ALL

    @property
    def low(self) -> Fraction:
        """The lowest share (a fraction of 1) that meets the target."""
        if self.mode == "max":
            return Fraction(0)
        return (
            max(Fraction(0), (self.share - (self.tolerance if self.mode == "about" else 0))) / 100
        )

    @property
    def high(self) -> Fraction:
        if self.mode == "min":
            return Fraction(1)
        return (
            min(Fraction(100), self.share + (self.tolerance if self.mode == "about" else 0)) / 100
        )

    def describe(self) -> str:
        sign = {"about": "", "min": "≥ ", "max": "≤ "}[self.mode]
        tol = f" ± {_pct(self.tolerance)}%" if self.mode == "about" and self.tolerance else ""
        scope = f" of {self.split}" if self.split else ""
        return f"{self.bucket.describe()}: {sign}{_pct(self.share)}%{tol}{scope}"


@dataclass(frozen=True)
class Status:
    target: Target
    total: int  # examples in the target's scope
    count: int  # of them in the bucket
    add: int | None  # bucket examples to add to reach the lower bound; None: adding cannot
    remove: int  # bucket examples to remove or deprioritize to meet the upper bound

    @property
    def share(self) -> Fraction | None:
        return Fraction(self.count, self.total) if self.total else None

    @property
    def state(self) -> str:
        """``met``, ``under`` or ``over``; an empty scope is ``under`` a target above 0."""
        if self.add != 0:
            return "under"
        if self.remove:
            return "over"
        return "met"


def _pct(value: Fraction) -> str:
    text = f"{float(value):.2f}".rstrip("0").rstrip(".")
    return text or "0"


def percent_parse(raw, *, maximum: int = 100) -> Fraction | None:
    """A percentage from 0 to ``maximum`` with at most two decimals, exactly; None if it is not
    one (bools, NaN, text that is no number, three decimals)."""
    if isinstance(raw, bool) or raw is None:
        return None
    try:
        value = Fraction(str(raw).strip())
    except (ValueError, ZeroDivisionError):
        return None
    if not 0 <= value <= maximum or (value * 100).denominator != 1:
        return None
    return value


def metadata_text(value) -> str | None:
    """A metadata value as the text a target names it by: strings as they are, true/false,
    numbers as JSON writes them; lists, objects and null match no target."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and math.isfinite(value):
        return repr(value)
    return None


def gap_add(count: int, total: int, low: Fraction) -> int | None:
    """The fewest bucket examples x to add so that (count + x) / (total + x) >= low (and the
    scope is not empty); None when no number does: 100% asked while other examples remain."""
    if low <= 0:
        return 0
    if total and Fraction(count, total) >= low:
        return 0
    if low >= 1:
        return 1 if total == 0 else None
    x = math.ceil((low * total - count) / (1 - low))
    return max(x, 1 if total == 0 else 0)


def gap_remove(count: int, total: int, high: Fraction) -> int:
    """The fewest bucket examples y to remove so that (count - y) / (total - y) <= high."""
    if not total or Fraction(count, total) <= high:
        return 0
    if high <= 0:
        return count
    return math.ceil((count - high * total) / (1 - high))


def status(target: Target, *, total: int, count: int) -> Status:
    if not 0 <= count <= total:
        raise ValueError(f"count {count} outside 0..{total}")
    return Status(
        target,
        total,
        count,
        add=gap_add(count, total, target.low),
        remove=gap_remove(count, total, target.high),
    )


@dataclass(frozen=True)
class Row:
    """One example as the plan sees it."""

    split: str
    tags: frozenset = frozenset()
    metadata: dict | None = None
    topic: int | None = None


def in_bucket(row: Row, bucket: Bucket) -> bool:
    if bucket.kind == "tag":
        return bucket.value in row.tags
    if bucket.kind == "topic":
        return row.topic is not None and str(row.topic) == bucket.value
    value = (row.metadata or {}).get(bucket.key) if isinstance(row.metadata, dict) else None
    return metadata_text(value) == bucket.value


def plan_status(rows: Iterable[Row], targets: list[Target]) -> list[Status]:
    """Each target's status over ``rows`` (the examples that count: not archived)."""
    totals: dict[str, int] = {}
    counts = [0] * len(targets)
    for row in rows:
        totals[ALL] = totals.get(ALL, 0) + 1
        totals[row.split] = totals.get(row.split, 0) + 1
        for i, target in enumerate(targets):
            if (target.split == ALL or target.split == row.split) and in_bucket(row, target.bucket):
                counts[i] += 1
    return [
        status(t, total=totals.get(t.split, 0), count=c)
        for t, c in zip(targets, counts, strict=True)
    ]


def _family(target: Target) -> tuple | None:
    """Buckets an example can be in only one of: the topics (of one clustering), the values of
    one metadata key. Tags overlap (an example has several), so their shares may sum past 100%."""
    if target.bucket.kind == "topic":
        return ("topic", target.split)
    if target.bucket.kind == "metadata":
        return ("metadata", target.bucket.key, target.split)
    return None


def plan_problems(targets: list[Target]) -> list[dict]:
    """``[{"index", "field", "message"}]`` of a plan that cannot be met; empty when it can.

    Two targets of one bucket and scope, and disjoint buckets whose lower bounds sum past 100%
    (the field named is the share of the target that pushed the sum over)."""
    problems = []
    seen: dict[tuple, int] = {}
    sums: dict[tuple, Fraction] = {}
    for i, target in enumerate(targets):
        scope = f" in split {target.split}" if target.split else ""
        key = (target.bucket, target.split)
        if key in seen:
            problems.append(
                {
                    "index": i,
                    "field": "bucket",
                    "message": DUPLICATE.format(scope=scope, other=seen[key]),
                }
            )
            continue
        seen[key] = i
        family = _family(target)
        if family is None:
            continue
        before = sums.get(family, Fraction(0))
        sums[family] = before + target.low
        if sums[family] > 1 >= before:
            unit = "topic" if family[0] == "topic" else f"value of {target.bucket.key}"
            name = "topic" if family[0] == "topic" else f"metadata {target.bucket.key}"
            problems.append(
                {
                    "index": i,
                    "field": "share",
                    "message": SUM_OVER.format(
                        family=name, scope=scope, total=_pct(sums[family] * 100), unit=unit
                    ),
                }
            )
    return problems
