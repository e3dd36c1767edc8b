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
