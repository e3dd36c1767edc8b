"""A run's metrics, and two runs compared item by item. Pure: plain dicts in, plain dicts out.

Scores are what the evaluators wrote per item: ``{evaluator name: {"value", "passed", ...}}``.
An item an evaluator could not score (value None: judge_error, no reference) counts in no mean
and in no comparison; its count is reported as ``errors``.
"""

from __future__ import annotations

from collections import Counter

from .stats import metric_summary, paired_bootstrap, wilson_interval

EPSILON = 1e-9
MAX_REGRESSIONS = 200


def metrics_aggregate(names: list[str], scores: list[dict]) -> dict:
    """Per evaluator: the mean with its 95 % interval and n, the pass rate with a Wilson
    interval, and how many items could not be scored (with their reasons)."""
    out = {}
    for name in names:
        values, passed, reasons = [], 0, Counter()
        for item in scores:
            score = item.get(name) or {}
            value = score.get("value")
            if value is None:
                reasons[score.get("reason") or "not_scored"] += 1
                continue
            values.append(value)
            passed += bool(score.get("passed"))
        summary = metric_summary(values).as_dict()
        rate = wilson_interval(passed, len(values))
        out[name] = {
            **summary,
            "pass_rate": rate.mean,
            "pass_ci_low": rate.ci_low,
            "pass_ci_high": rate.ci_high,
            "errors": sum(reasons.values()),
            "error_reasons": dict(reasons),
        }
    return out


def runs_compare(
    names: list[str], new: dict, old: dict, *, seed: int = 0, max_regressions=MAX_REGRESSIONS
) -> dict:
    """``new`` against ``old`` (each ``{item key: scores}``) on the items both scored.

    Per evaluator: wins (new scored higher), losses, ties, the mean difference new − old with a
    paired bootstrap interval. ``regressions``: items some evaluator passed in ``old`` and
    failed in ``new`` (keys, with the evaluators that regressed), at most ``max_regressions``.
    """
    common = [key for key in new if key in old]
    per_evaluator = {}
    regressed: dict = {}
    for name in names:
        wins = losses = ties = 0
        a, b = [], []
        for key in common:
            x, y = (old[key].get(name) or {}), (new[key].get(name) or {})
            if x.get("value") is None or y.get("value") is None:
                continue
            a.append(x["value"])
            b.append(y["value"])
            if y["value"] > x["value"] + EPSILON:
                wins += 1
            elif y["value"] < x["value"] - EPSILON:
                losses += 1
            else:
                ties += 1
            if x.get("passed") and not y.get("passed"):
                regressed.setdefault(key, []).append(name)
        diff = paired_bootstrap(a, b, seed=seed).as_dict()
        per_evaluator[name] = {"wins": wins, "losses": losses, "ties": ties, "difference": diff}
    keys = [k for k in common if k in regressed]
    return {
        "items": len(common),
        "evaluators": per_evaluator,
        "regression_count": len(keys),
        "regressions": [{"item": k, "evaluators": regressed[k]} for k in keys[:max_regressions]],
    }
