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


def histogram(values: Sequence[int | float], bins: int = 20) -> list[tuple[float, float, int]]:
    """``bins`` equal-width bins over [min, max] as ``(lo, hi, count)``; the last bin includes max.

    Integer data spanning fewer than ``bins`` values gets one bin per value, so a chart of
    message counts shows 2, 3, 4 rather than 2.0–2.1, 2.1–2.2.
    """
    if not values:
        return []
    arr = np.asarray(values)
    lo, hi = arr.min(), arr.max()
    if np.issubdtype(arr.dtype, np.integer) and hi - lo + 1 <= bins:
        edges = np.arange(lo, hi + 2) - 0.5
    else:
        edges = bins
    counts, edges = np.histogram(arr, bins=edges)
    return [
        (float(a), float(b), int(c)) for a, b, c in zip(edges[:-1], edges[1:], counts, strict=True)
    ]
