"""Formatting of metrics on the evaluation pages."""

from django import template

register = template.Library()


@register.filter
def pct(value) -> str:
    """0.734 → "73.4 %"; None → "–"."""
    if value is None:
        return "–"
    return f"{100 * float(value):.1f} %"


@register.filter
def interval(metric) -> str:
    """A metric's mean with its 95 % interval: "73.4 % [61.0 %, 83.1 %] (n=50)"."""
    if not metric or metric.get("mean") is None:
        return "no scored items"
    low, high = metric.get("ci_low"), metric.get("ci_high")
    text = pct(metric["mean"])
    if low is not None and high is not None:
        text += f" [{pct(low)}, {pct(high)}]"
    return f"{text} (n={metric.get('n', 0)})"


@register.filter
def seconds(value) -> str:
    if value is None:
        return "–"
    value = int(value)
    return f"{value // 60} min {value % 60} s" if value >= 60 else f"{value} s"


@register.filter
def score_of(scores, name):
    return (scores or {}).get(name) or {}


@register.filter
def failed(result) -> bool:
    """Whether an eval result failed an evaluator that scored it (a judge_error is no failure)."""
    return any(
        s.get("value") is not None and not s.get("passed") for s in (result.scores or {}).values()
    )


@register.filter
def signed_pct(value) -> str:
    """A difference of two means in points: 0.125 → "+12.5 pts"; None → "–"."""
    if value is None:
        return "–"
    return f"{100 * float(value):+.1f} pts"
