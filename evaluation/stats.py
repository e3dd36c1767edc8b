"""Confidence intervals for eval metrics, and paired comparisons of two runs. Pure: no Django,
no scipy (the Student t quantile is computed here from the regularized incomplete beta).

- :func:`mean_interval`: the mean of continuous scores with a Student t interval;
- :func:`wilson_interval`: a pass rate (or a win rate) with the Wilson score interval, which
  stays inside [0, 1] and behaves at 0 % and 100 % where the normal interval does not;
- :func:`metric_summary`: one of the two, chosen by whether the scores are all 0 or 1;
- :func:`paired_bootstrap`: the mean difference of two runs' scores on the same items, with a
  percentile bootstrap interval over items (seeded: the same inputs give the same interval).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from statistics import NormalDist

import numpy as np

CONFIDENCE = 0.95


@dataclass(frozen=True)
class Interval:
    """``mean`` with ``[ci_low, ci_high]`` over ``n`` values (None where n is too small)."""

    mean: float | None
    ci_low: float | None
    ci_high: float | None
    n: int
    method: str

    def as_dict(self) -> dict:
        return asdict(self)


def _betacf(a: float, b: float, x: float) -> float:
    # Continued fraction of the incomplete beta (modified Lentz), as in Numerical Recipes §6.4.
    tiny, qab, qap, qam = 1e-300, a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 500):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < 1e-15:
            break
    return h


def betainc(a: float, b: float, x: float) -> float:
    """The regularized incomplete beta function I_x(a, b)."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    front = math.exp(
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    )
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _betacf(a, b, x) / a
    return 1.0 - front * _betacf(b, a, 1.0 - x) / b


def t_cdf(t: float, df: float) -> float:
    """P(T ≤ t) for Student's t with ``df`` degrees of freedom."""
    tail = 0.5 * betainc(df / 2.0, 0.5, df / (df + t * t))
    return 1.0 - tail if t >= 0 else tail


def t_quantile(p: float, df: float) -> float:
    """The ``p`` quantile of Student's t (bisection on :func:`t_cdf`, to 1e-12)."""
    if not 0.0 < p < 1.0:
        raise ValueError("p must lie strictly between 0 and 1")
    if p < 0.5:
        return -t_quantile(1.0 - p, df)
    low, high = 0.0, 1.0
    while t_cdf(high, df) < p:
        high *= 2.0
    for _ in range(200):
        mid = (low + high) / 2.0
        if t_cdf(mid, df) < p:
            low = mid
        else:
            high = mid
        if high - low < 1e-12:
            break
    return (low + high) / 2.0


def mean_interval(values, confidence: float = CONFIDENCE) -> Interval:
    """Mean with a Student t interval: mean ± t(1 − α/2, n − 1) · s / √n."""
    values = [float(v) for v in values]
    n = len(values)
    if n == 0:
        return Interval(None, None, None, 0, "t")
    mean = math.fsum(values) / n
    if n == 1:
        return Interval(mean, None, None, 1, "t")
    var = math.fsum((v - mean) ** 2 for v in values) / (n - 1)
    half = t_quantile(1.0 - (1.0 - confidence) / 2.0, n - 1) * math.sqrt(var / n)
    return Interval(mean, mean - half, mean + half, n, "t")


def wilson_interval(successes: float, n: int, confidence: float = CONFIDENCE) -> Interval:
    """Wilson score interval of ``successes`` out of ``n`` (ties may count as half
    successes: the formula takes any 0 ≤ successes ≤ n)."""
    if n == 0:
        return Interval(None, None, None, 0, "wilson")
    if not 0 <= successes <= n:
        raise ValueError("successes must lie between 0 and n")
    z = NormalDist().inv_cdf(1.0 - (1.0 - confidence) / 2.0)
    p = successes / n
    denom = 1.0 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    # The interval always holds p; rounding at 0 % and 100 % could put it a hair outside.
    low, high = max(0.0, min(p, centre - half)), min(1.0, max(p, centre + half))
    return Interval(p, low, high, n, "wilson")


def metric_summary(values, confidence: float = CONFIDENCE) -> Interval:
    """Wilson for pass/fail scores (every value 0 or 1), else the t interval. None values (items
    that could not be scored) are left out; ``n`` counts the scored items."""
    scored = [v for v in values if v is not None]
    if scored and all(v in (0, 1) for v in scored):
        return wilson_interval(sum(scored), len(scored), confidence)
    return mean_interval(scored, confidence)


def win_rate(wins: int, losses: int, ties: int, confidence: float = CONFIDENCE) -> Interval:
    """(wins + ties / 2) / all, with the Wilson interval."""
    return wilson_interval(wins + ties / 2.0, wins + losses + ties, confidence)


def paired_bootstrap(
    a, b, *, seed: int = 0, resamples: int = 2_000, confidence: float = CONFIDENCE
) -> Interval:
    """Mean of ``b − a`` over paired items with a percentile bootstrap interval: items are
    resampled with replacement ``resamples`` times (chunked, so memory stays bounded)."""
    if len(a) != len(b):
        raise ValueError("paired scores need the same number of items")
    diffs = np.asarray(b, dtype=float) - np.asarray(a, dtype=float)
    n = len(diffs)
    if n == 0:
        return Interval(None, None, None, 0, "bootstrap")
    mean = float(diffs.mean())
    if n == 1:
        return Interval(mean, None, None, 1, "bootstrap")
    rng = np.random.default_rng(seed)
    means = np.empty(resamples)
    chunk = max(1, 2_000_000 // n)
    for start in range(0, resamples, chunk):
        size = min(chunk, resamples - start)
        idx = rng.integers(0, n, size=(size, n))
        means[start : start + size] = diffs[idx].mean(axis=1)
    alpha = (1.0 - confidence) / 2.0
    low, high = np.quantile(means, [alpha, 1.0 - alpha])
    return Interval(mean, float(low), float(high), n, "bootstrap")
