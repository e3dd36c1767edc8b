"""Reading stored check results: the dataset report (API and Checks page) and one example's
findings placed on the turns they concern."""

from __future__ import annotations

import re

from django.db.models import Count, Q

from ...checks import RULES
from ...checks.registry import SEVERITY_ORDER, Severity
from ...models import CheckResult, Dataset, DatasetReport, Example, ExampleStatus
from ...tokens import Distribution, TokenStats
from .engine import settings_snapshot

SAMPLE_IDS = 10
MAX_EPOCHS = 100

BAD_PRICE = "price_per_million must be a number ≥ 0."
BAD_EPOCHS = f"epochs must be a whole number from 1 to {MAX_EPOCHS}."
QUANTILE_NOTE = (
    "p5/p95 are the true 5th and 95th percentiles. The OpenAI cookbook notebook prints its 10th "
    "and 90th percentiles under the label 'p5 / p95'; those are p10/p90 here."
)
_TURN = re.compile(r"^messages\[(\d+)\]")


def _live_rows(dataset: Dataset):
    live = ~Q(example__status=ExampleStatus.ARCHIVED) | Q(example__isnull=True)
    return CheckResult.objects.filter(dataset=dataset).filter(live)


def rule_counts(dataset: Dataset) -> dict[str, int]:
    """Per rule, the examples it concerns (example-less dataset rows count 1 each)."""
    rows = (
        _live_rows(dataset)
        .values("rule_id")
        .annotate(
            examples=Count("example_id", distinct=True),
            whole=Count("id", filter=Q(example__isnull=True)),
        )
    )
    return {row["rule_id"]: row["examples"] + row["whole"] for row in rows}


def _rules(dataset: Dataset) -> list[dict]:
    counts = rule_counts(dataset)
    ordered = sorted(
        (rule_id for rule_id in counts if rule_id in RULES),
        key=lambda r: (SEVERITY_ORDER[Severity(RULES[r].severity)], r),
    )
    out = []
    for rule_id in ordered:
        sample = (
            _live_rows(dataset)
            .filter(rule_id=rule_id, example__isnull=False)
            .order_by("example_id")
            .values_list("example_id", flat=True)
            .distinct()[:SAMPLE_IDS]
        )
        out.append(
            {**RULES[rule_id].as_dict(), "count": counts[rule_id], "example_ids": list(sample)}
        )
    return out


def parse_cost_inputs(price, epochs) -> tuple[float | None, int | None, list[dict]]:
    """Query-string price and epochs as numbers, with field errors for bad values."""
    errors = []
    price_value = epochs_value = None
    if price not in (None, ""):
        try:
            price_value = float(price)
            if not price_value >= 0 or price_value == float("inf"):
                raise ValueError
        except (TypeError, ValueError):
            errors.append({"path": "price_per_million", "message": BAD_PRICE})
            price_value = None
    if epochs not in (None, ""):
        try:
            epochs_value = int(epochs)
            if not 1 <= epochs_value <= MAX_EPOCHS:
                raise ValueError
        except (TypeError, ValueError):
            errors.append({"path": "epochs", "message": BAD_EPOCHS})
            epochs_value = None
    return price_value, epochs_value, errors


def _token_stats(stored: dict | None) -> TokenStats | None:
    if not stored:
        return None
    values = dict(stored)
    for key in ("messages", "total_tokens", "assistant_tokens"):
        values[key] = Distribution(**values[key]) if values[key] else None
    return TokenStats(**values)


def _cost(stats: TokenStats | None, price, epochs) -> dict | None:
    if stats is None or price is None:
        return None
    used_epochs = stats.epochs if epochs is None else epochs
    return {
        "price_per_million": price,
        "epochs": used_epochs,
        "billable_tokens": stats.billable_tokens,
        "trained_tokens": stats.billable_tokens * used_epochs,
        "estimated_cost": round(stats.cost(price, used_epochs), 6),
    }


def dataset_report(*, dataset: Dataset, price_per_million=None, epochs=None) -> dict:
    """The report of DESIGN §6: results by rule (current rows), dataset findings, token
    statistics and histograms (last full run), a cost estimate when a price is given."""
    cached = DatasetReport.objects.filter(dataset=dataset).first()
    stats = _token_stats(cached.token_stats if cached else None)
    stale = cached is None or cached.stale or cached.settings_used != settings_snapshot(dataset)
    token_stats = None
    if stats is not None:
        token_stats = {
            **stats.as_dict(),
            "n_messages": stats.messages.as_dict() if stats.messages else None,
            "default_epochs": stats.epochs,
            "quantile_note": QUANTILE_NOTE,
        }
        token_stats["encoding"] = (cached.settings_used or {}).get("token_encoding")
    return {
        "dataset": dataset.pk,
        "computed_at": cached.computed_at if cached else None,
        "stale": stale,
        "pending": bool(cached and cached.pending),
        "failure": (cached.failure or None) if cached else None,
        "n_examples": cached.n_examples if cached else 0,
        "rules": _rules(dataset),
        "dataset_findings": list(cached.dataset_findings) if cached else [],
        "token_stats": token_stats,
        "histograms": dict(cached.histograms) if cached else {},
        "cost": _cost(stats, price_per_million, epochs),
    }


def rules_for_summary(rules: list[dict], *, cap: int) -> tuple[list[dict], int]:
    """The rules a short summary shows, and how many it leaves out: every error-level rule
    with findings (an error blocks a freeze, so it is never hidden, however rare), then the
    other rules with findings, warnings before info, most frequent first, until ``cap`` rows.

    >>> rules = [{"id": "long", "severity": "warning", "count": 90},
    ...          {"id": "empty", "severity": "error", "count": 1},
    ...          {"id": "style", "severity": "info", "count": 500},
    ...          {"id": "none", "severity": "error", "count": 0}]
    >>> shown, more = rules_for_summary(rules, cap=2)
    >>> [r["id"] for r in shown], more
    (['empty', 'long'], 1)
    """
    present = [r for r in rules if r["count"]]
    rank = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}

    def key(rule):
        return (rank.get(Severity(rule["severity"]), 3), -rule["count"], rule["id"])

    ordered = sorted(present, key=key)
    errors = [r for r in ordered if r["severity"] == Severity.ERROR]
    others = [r for r in ordered if r["severity"] != Severity.ERROR]
    shown = errors + others[: max(0, cap - len(errors))]
    return shown, len(present) - len(shown)


def example_findings(example: Example) -> list[CheckResult]:
    return list(
        CheckResult.objects.filter(example=example).order_by("path", "severity", "rule_id", "id")
    )


def findings_by_turn(findings, n_messages: int) -> tuple[list, dict[int, list]]:
    """Split findings into example-wide ones and those on ``messages[i]`` (by their JSON path)."""
    top: list = []
    by_turn: dict[int, list] = {}
    for f in findings:
        match = _TURN.match(f.path or "")
        index = int(match.group(1)) if match else None
        if index is None or index >= n_messages:
            top.append(f)
        else:
            by_turn.setdefault(index, []).append(f)
    return top, by_turn
