"""What a version remembers about its dataset at freeze time, and how two such records differ."""

from __future__ import annotations

import json

from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Count, Q

from ...models import CheckResult, Dataset, Example, ExampleStatus
from ..checks.report import dataset_report


def dataset_stats(dataset: Dataset, *, by_split: dict) -> dict:
    """Example counts by status (archived included), the version's counts per split, and the
    dataset report (check results by rule, token statistics, histograms) as it stands."""
    # GROUP BY status alone is answered from the (dataset, status, id) index.
    rows = Example.objects.filter(dataset=dataset).values("status").annotate(n=Count("id"))
    by_status = {row["status"]: row["n"] for row in rows.order_by("status")}
    stats = {
        "examples": sum(by_split.values()),
        "by_status": by_status,
        "by_split": dict(sorted(by_split.items())),
    }
    stats["report"] = _dataset_report(dataset)
    return stats


def _dataset_report(dataset: Dataset) -> dict:
    # The report holds datetimes; a JSONField stores only plain JSON.
    report = dataset_report(dataset=dataset)
    return json.loads(json.dumps(report, cls=DjangoJSONEncoder))


def check_summary(dataset: Dataset) -> dict:
    """Check results of the non-archived examples and of the dataset as a whole, by rule."""
    live = ~Q(example__status=ExampleStatus.ARCHIVED) | Q(example__isnull=True)
    rows = (
        CheckResult.objects.filter(dataset=dataset)
        .filter(live)
        .values("rule_id", "severity")
        .annotate(n=Count("id"))
        .order_by("rule_id", "severity")
    )
    by_rule: dict[str, dict] = {}
    by_severity: dict[str, int] = {}
    for row in rows:
        by_rule[row["rule_id"]] = {"severity": row["severity"], "count": row["n"]}
        by_severity[row["severity"]] = by_severity.get(row["severity"], 0) + row["n"]
    return {"by_rule": by_rule, "by_severity": dict(sorted(by_severity.items()))}


def _numbers(value, prefix=""):
    if isinstance(value, bool):
        return
    if isinstance(value, int | float):
        yield prefix, value
    elif isinstance(value, dict):
        for key, sub in value.items():
            yield from _numbers(sub, f"{prefix}.{key}" if prefix else str(key))


def numeric_changes(old: dict, new: dict) -> list[dict]:
    """Every numeric leaf (dotted path) whose value differs: ``{"path", "old", "new", "delta"}``.

    >>> numeric_changes({"a": {"b": 1}}, {"a": {"b": 3, "c": 2}})
    [{'path': 'a.b', 'old': 1, 'new': 3, 'delta': 2}, {'path': 'a.c', 'old': 0, 'new': 2, 'delta': 2}]
    """
    before = dict(_numbers(old or {}))
    after = dict(_numbers(new or {}))
    out = []
    for path in sorted(set(before) | set(after)):
        a, b = before.get(path, 0), after.get(path, 0)
        if a != b:
            out.append({"path": path, "old": a, "new": b, "delta": b - a})
    return out


def check_changes(old: dict, new: dict) -> list[dict]:
    """Per rule: the number of findings in each version and the change."""
    before = (old or {}).get("by_rule", {})
    after = (new or {}).get("by_rule", {})
    out = []
    for rule in sorted(set(before) | set(after)):
        a = before.get(rule, {}).get("count", 0)
        b = after.get(rule, {}).get("count", 0)
        if a != b:
            severity = (after.get(rule) or before.get(rule))["severity"]
            out.append({"rule_id": rule, "severity": severity, "old": a, "new": b, "delta": b - a})
    return out


# --- the diff's statistics as a person reads them ------------------------------------------
# One row per figure, labelled in words, in this order; ``None`` leaves a figure out because
# another row already shows it (the split counts are the version's own ``counts``; ``messages``
# and ``n_messages`` are the same distribution, ``epochs`` and ``default_epochs`` the same rule).
DISTRIBUTION_LABELS = {
    "mean": "mean",
    "median": "median",
    "min": "min",
    "max": "max",
    "p5": "5th percentile",
    "p95": "95th percentile",
    # the notebook's quirk (its "p5 / p95" are these), kept in the API, not repeated here
    "p10": None,
    "p90": None,
    "count": None,
}
DISTRIBUTIONS = {
    "n_messages": "Messages per example",
    "total_tokens": "Tokens per example",
    "assistant_tokens": "Assistant tokens",
    "messages": None,
}
TOKEN_FIGURES = {
    "billable_tokens": "Billable tokens",
    "charged_tokens": "Tokens charged (billable × epochs)",
    "n_over_limit": "Examples over the token limit",
    "limit": "Token limit",
    "n_missing_system": "Examples without a system message",
    "n_missing_user": "Examples without a user message",
    "default_epochs": "Default epochs",
    "epochs": None,
    "n_examples": None,
}
SPLIT_LABELS = {"train": "Train", "validation": "Validation", "test": "Test"}


def _label(path: str) -> str | None:
    """The words for a figure of a version's ``counts`` or ``stats`` (dotted path); None for a
    figure another row already shows or that is no statistic (ids)."""
    parts = path.split(".")
    if parts[0] == "counts":
        split = parts[1]
        return f"Examples in {SPLIT_LABELS.get(split, split)}"
    if parts[:1] == ["examples"]:
        return "Examples"
    if parts[0] == "by_status" and len(parts) == 2:
        return f"{dict(ExampleStatus.choices).get(parts[1], parts[1])} examples (dataset)"
    if parts[0] == "by_split":
        return None  # the version's own counts say it
    if parts[:2] == ["report", "token_stats"] and len(parts) >= 3:
        name = parts[2]
        if name in DISTRIBUTIONS:
            what, stat = DISTRIBUTIONS[name], ".".join(parts[3:])
            if what is None or stat not in DISTRIBUTION_LABELS:
                return None
            return (
                None
                if DISTRIBUTION_LABELS[stat] is None
                else f"{what}, {DISTRIBUTION_LABELS[stat]}"
            )
        return TOKEN_FIGURES.get(name, name.replace("_", " ").capitalize())
    if parts[0] == "report":
        return None  # ids, counts of the last check run, cost inputs: not version statistics
    return path.replace("_", " ").replace(".", " › ").capitalize()


def _order(path: str) -> tuple:
    parts = path.split(".")
    groups = ["counts", "examples", "by_status", "report"]
    group = groups.index(parts[0]) if parts[0] in groups else len(groups)
    names = list(DISTRIBUTIONS) + list(TOKEN_FIGURES)
    stats = list(DISTRIBUTION_LABELS)
    splits = list(SPLIT_LABELS)
    status = list(ExampleStatus.values)
    rank = []
    for part in parts[1:]:
        for known in (splits, status, names, stats):
            if part in known:
                rank.append(known.index(part))
                break
        else:
            rank.append(len(names))
    return (group, rank, path)


def format_number(value) -> str:
    """A figure rounded as a person reads it: whole numbers with thousands separators, others
    with one decimal from 10 up and two below (trailing zeros dropped).

    >>> format_number(52002), format_number(312.4567), format_number(3.14159), format_number(2.0)
    ('52,002', '312.5', '3.14', '2')
    """
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int):
        return f"{value:,}"
    digits = 1 if abs(value) >= 10 else 2
    text = f"{value:,.{digits}f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def format_delta(old, new) -> str:
    """The change with its sign, and relative to the old value when that is not zero.

    >>> format_delta(100, 112), format_delta(5.0, 4.83), format_delta(0, 7), format_delta(3, 3)
    ('+12 (+12%)', '-0.17 (-3.4%)', '+7', '0')
    """
    delta = new - old
    if delta == 0:
        return "0"
    text = format_number(delta)
    text = text if text.startswith("-") else f"+{text}"
    if old:
        percent = delta / abs(old) * 100
        shown = f"{percent:+.0f}" if abs(percent) >= 10 else f"{percent:+.1f}"
        text += f" ({shown}%)"
    return text


def statistics_rows(
    *, old_counts: dict, new_counts: dict, old_stats: dict, new_stats: dict
) -> list[dict]:
    """The figures that differ between two versions, each once, labelled and rounded:
    ``{"label", "old", "new", "change", "delta"}`` (``old``/``new``/``change`` are text;
    ``delta`` the raw number for sorting or colour).

    >>> rows = statistics_rows(old_counts={"train": 8}, new_counts={"train": 10},
    ...     old_stats={"by_split": {"train": 8}, "report": {"token_stats": {"assistant_tokens":
    ...     {"mean": 41.333333}}}}, new_stats={"by_split": {"train": 10}, "report":
    ...     {"token_stats": {"assistant_tokens": {"mean": 52.5}}}})
    >>> [(r["label"], r["old"], r["new"], r["change"]) for r in rows]
    [('Examples in Train', '8', '10', '+2 (+25%)'), ('Assistant tokens, mean', '41.3', '52.5', '+11.2 (+27%)')]
    """
    before = {f"counts.{k}": v for k, v in _numbers(old_counts or {})}
    after = {f"counts.{k}": v for k, v in _numbers(new_counts or {})}
    before.update(_numbers(old_stats or {}))
    after.update(_numbers(new_stats or {}))
    rows = []
    for path in sorted(set(before) | set(after), key=_order):
        label = _label(path)
        a, b = before.get(path, 0), after.get(path, 0)
        if label is None or a == b:
            continue
        rows.append(
            {
                "label": label,
                "old": format_number(a),
                "new": format_number(b),
                "change": format_delta(a, b),
                "delta": b - a,
            }
        )
    return rows


def check_rows(old: dict, new: dict) -> list[dict]:
    """:func:`check_changes` with each rule's title, errors first."""
    from ...checks import RULES

    order = {"error": 0, "warning": 1, "info": 2}
    rows = [
        {
            **change,
            "title": RULES[change["rule_id"]].title
            if change["rule_id"] in RULES
            else change["rule_id"],
            "old_text": format_number(change["old"]),
            "new_text": format_number(change["new"]),
            "change": format_delta(change["old"], change["new"]),
        }
        for change in check_changes(old, new)
    ]
    return sorted(rows, key=lambda r: (order.get(r["severity"], 3), r["rule_id"]))
