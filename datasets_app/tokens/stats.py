"""Distributions, over-limit counts, billing and the default epoch rule of the OpenAI cookbook.

Numbers equal what the cookbook's notebook prints for the same file (the tests run the
notebook's own code as the oracle). One quirk is kept visible instead of copied silently: the
notebook prints ``np.quantile(values, 0.1)`` and ``0.9`` under the label "p5 / p95".
:class:`Distribution` therefore carries the true ``p5``/``p95`` AND ``p10``/``p90``, and
:meth:`Distribution.notebook_lines` prints what the notebook prints.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from datasets_app.tokens.counting import ExampleTokens

DEFAULT_LIMIT = 4096  # the older notebook's limit; the current notebook uses 16,385
TARGET_EPOCHS = 3
MIN_TARGET_EXAMPLES = 100
MAX_TARGET_EXAMPLES = 25000
MIN_DEFAULT_EPOCHS = 1
MAX_DEFAULT_EPOCHS = 25

NEGATIVE_PRICE = "the price per million tokens must not be negative"


@dataclass(frozen=True)
class Distribution:
    count: int
    min: float
    max: float
    mean: float
    median: float
    p5: float
    p95: float
    p10: float
    p90: float

    def notebook_lines(self, name: str) -> list[str]:
        """The lines the notebook's ``print_distribution(values, name)`` prints."""
        return [
            "",
            f"#### Distribution of {name}:",
            f"min / max: {self.min}, {self.max}",
            f"mean / median: {self.mean}, {self.median}",
            f"p5 / p95: {self.p10}, {self.p90}",
        ]

    def as_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def distribution(values: Sequence[int | float]) -> Distribution | None:
    """min, max, mean, median and quantiles computed with numpy as the notebook does; None if empty."""
    if not values:
        return None
    arr = np.asarray(values)
    q = np.quantile(arr, [0.05, 0.95, 0.1, 0.9])
    return Distribution(
        count=len(values),
        min=min(values),
        max=max(values),
        mean=float(np.mean(arr)),
        median=float(np.median(arr)),
        p5=float(q[0]),
        p95=float(q[1]),
        p10=float(q[2]),
        p90=float(q[3]),
    )


def default_epochs(n_examples: int) -> int:
    """The cookbook's default: 3 epochs, raised or lowered so examples × epochs lands in 100..25,000."""
    if n_examples <= 0:
        return MAX_DEFAULT_EPOCHS  # the limit of the rule as the dataset shrinks; nothing is billed
    if n_examples * TARGET_EPOCHS < MIN_TARGET_EXAMPLES:
        return min(MAX_DEFAULT_EPOCHS, MIN_TARGET_EXAMPLES // n_examples)
    if n_examples * TARGET_EPOCHS > MAX_TARGET_EXAMPLES:
        return max(MIN_DEFAULT_EPOCHS, MAX_TARGET_EXAMPLES // n_examples)
    return TARGET_EPOCHS


@dataclass(frozen=True)
class TokenStats:
    n_examples: int
    n_missing_system: int
    n_missing_user: int
    messages: Distribution | None
    total_tokens: Distribution | None
    assistant_tokens: Distribution | None
    limit: int
    n_over_limit: int
    billable_tokens: int
    epochs: int
    charged_tokens: int

    def cost(self, price_per_million: float, epochs: int | None = None) -> float:
        """Estimated training cost: billable tokens × epochs (default: the cookbook's) × price / 1M."""
        if price_per_million < 0:
            raise ValueError(NEGATIVE_PRICE)
        n_epochs = self.epochs if epochs is None else epochs
        return self.billable_tokens * n_epochs * price_per_million / 1_000_000

    def as_dict(self) -> dict:
        out = {k: getattr(self, k) for k in self.__dataclass_fields__}
        for key in ("messages", "total_tokens", "assistant_tokens"):
            out[key] = out[key].as_dict() if out[key] else None
        return out


def token_stats(counts: Sequence[ExampleTokens], *, limit: int = DEFAULT_LIMIT) -> TokenStats:
    """The notebook's warnings, distributions and pricing section over per-example counts."""
    totals = [c.total_tokens for c in counts]
    billable = sum(min(limit, n) for n in totals)
    epochs = default_epochs(len(counts))
    return TokenStats(
        n_examples=len(counts),
        n_missing_system=sum(1 for c in counts if not c.has_system),
        n_missing_user=sum(1 for c in counts if not c.has_user),
        messages=distribution([c.n_messages for c in counts]),
        total_tokens=distribution(totals),
        assistant_tokens=distribution([c.assistant_tokens for c in counts]),
        limit=limit,
        n_over_limit=sum(1 for n in totals if n > limit),
        billable_tokens=billable,
        epochs=epochs,
        charged_tokens=epochs * billable,
    )


# Equal-width bins are "skewed" when nearly everything lands in a few of them: fewer than this
# share of the bins hold any value, one bin holds SKEWED_TOP_SHARE of all values or the two
# fullest SKEWED_TOP2_SHARE (a long tail stretches the range, the bulk fills the first bars).
SKEWED_FILLED_SHARE = 0.25
SKEWED_TOP_SHARE = 0.5
SKEWED_TOP2_SHARE = 0.7
# Log bins need a range of at least this ratio (max over min, min taken as 1 when below);
# a narrower skewed range gets quantile bins instead.
LOG_MIN_RATIO = 10


def histogram_edges(values: Sequence[int | float], bins: int = 20) -> tuple[list[float], str]:
    """Bin edges for ``values`` and the rule that chose them: ``"value"`` (small integer range,
    one bin per value), ``"linear"`` (equal width), or, when equal widths would pile nearly
    everything into one or two bars, ``"log"`` (widths grow geometrically; positive data over
    a wide range, such as token counts with a long tail) or ``"quantile"`` (about as many
    values in every bin).

    >>> histogram_edges([2, 2, 3])
    ([1.5, 2.5, 3.5], 'value')
    >>> edges, rule = histogram_edges([10] * 90 + [100, 1000, 10_000, 100_000] * 3)
    >>> rule, len(edges) > 5
    ('log', True)
    """
    arr = np.asarray(values)
    lo, hi = float(arr.min()), float(arr.max())
    integer = bool(np.issubdtype(arr.dtype, np.integer))
    if integer and hi - lo + 1 <= bins:
        return [float(e) for e in np.arange(lo, hi + 2) - 0.5], "value"
    counts, linear = np.histogram(arr, bins=bins)
    filled = int(np.count_nonzero(counts))
    fullest = np.sort(counts)[::-1]
    skewed = (
        filled < max(2, bins * SKEWED_FILLED_SHARE)
        or fullest[0] >= SKEWED_TOP_SHARE * len(arr)
        or (bins > 2 and fullest[:2].sum() >= SKEWED_TOP2_SHARE * len(arr))
    )
    if not skewed or lo == hi:
        return [float(e) for e in linear], "linear"
    if lo >= 0 and hi / max(lo, 1.0) >= LOG_MIN_RATIO:
        edges, rule = np.expm1(np.linspace(np.log1p(lo), np.log1p(hi), bins + 1)), "log"
    else:
        edges, rule = np.quantile(arr, np.linspace(0.0, 1.0, bins + 1)), "quantile"
    if integer:
        edges = np.round(edges)
    edges = np.unique(edges)
    # the outer edges stay exactly min and max, so every value falls in a bin
    edges[0], edges[-1] = lo, hi
    if len(edges) < 2:
        return [float(e) for e in linear], "linear"
    return [float(e) for e in edges], rule


def histogram(values: Sequence[int | float], bins: int = 20) -> list[tuple[float, float, int]]:
    """Up to ``bins`` bins over [min, max] as ``(lo, hi, count)``; the last bin includes max.

    Integer data spanning fewer than ``bins`` values gets one bin per value, so a chart of
    message counts shows 2, 3, 4 rather than 2.0–2.1, 2.1–2.2. Skewed data gets log or
    quantile bins (see :func:`histogram_edges`), so a long tail does not squash the bulk of
    the values into one bar.
    """
    if not values:
        return []
    edges, _ = histogram_edges(values, bins)
    counts, edges = np.histogram(np.asarray(values), bins=edges)
    return [
        (float(a), float(b), int(c)) for a, b, c in zip(edges[:-1], edges[1:], counts, strict=True)
    ]
