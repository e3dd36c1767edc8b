"""Stored check results, kept current: the dataset run and the quick re-check of a few edited
examples.

The dataset run is incremental: each worker process keeps the latest scan of every example of
the datasets it checked last (:class:`datasets_app.checks.incremental.ReportState`, stamped with
the example's current revision, source format and content hash), reads only the stamps of the
dataset's examples, rescans the new and changed ones and derives the dataset rules and
statistics again, which gives exactly the full report (tests/datasets_app/checks/
test_incremental.py). A worker that has not seen the dataset, other check settings, or
``full=True`` ("Re-check now") scan everything again.

The run makes the dataset's CheckResult rows those of the report in one transaction (rows that
stay the same are kept, the others deleted or inserted) and caches what
rows cannot hold (token statistics, histograms, dataset findings) in :class:`DatasetReport`.
Dataset findings that name examples are stored one row per example (scope ``dataset``) so the
example list can filter by them; those that name none get one row without an example. Row
counts per rule (distinct examples, plus example-less rows) therefore equal
``CheckReport.counts_by_rule()``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable

import orjson
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from ...checks import CheckReport, ExampleInput, Finding, check_example
from ...checks.incremental import ReportState, report_state_build
from ...models import CheckResult, Dataset, DatasetReport, Example, ExampleStatus
from ...tokens import histogram
from .engine import check_settings_for, content_of, encoding_for, settings_snapshot

logger = logging.getLogger(__name__)

READ_CHUNK = 2000
WRITE_BATCH = 2000
REFRESH_CHUNK = 500
SAMPLE_KEYS = 20  # example ids kept per dataset finding in the cached report
HISTOGRAM_BINS = 20
MEMBERS_NAMED = 5
GROUPS_COMPARED = 5000  # more changed examples than this: every row is compared
COLUMNS = ("example_id", "rule_id", "severity", "scope", "message", "path", "details")
# Scans kept per worker process, all datasets together (about 1-2 KB each); the datasets
# checked least recently are dropped first, and a larger dataset is scanned whole every run.
KEPT_EXAMPLES = 200_000

CRASHED = "The check run failed unexpectedly; the previous results are kept. The error was logged."
SAME_CONTENT = "Identical to example{s} {ids}."
SAME_PROMPT = "The same prompt has a different answer in example{s} {ids}."


def _live(dataset_id: int):
    return Example.objects.filter(dataset_id=dataset_id).exclude(status=ExampleStatus.ARCHIVED)


def _stamps(dataset_id: int) -> dict[int, tuple]:
    """Per live example, what its scan depends on: a new revision, source format or hash."""
    rows = _live(dataset_id).values_list(
        "id", "current_revision_id", "source_format", "content_hash"
    )
    return {pk: (revision, fmt, chash) for pk, revision, fmt, chash in rows.order_by()}


def _splits(dataset_id: int) -> dict[int, str]:
    """Per live example, its split (the pair rules look for prompts in two splits)."""
    return dict(_live(dataset_id).values_list("id", "split").order_by())


def _inputs(dataset_id: int, ids: list[int] | None = None, fetched: set | None = None):
    """``(stamp, ExampleInput)`` of the live examples (``ids`` only, if given), in id order."""
    columns = (
        "id",
        "current_revision_id",
        "current_revision__messages",
        "current_revision__tools",
        "current_revision__metadata",
        "source_format",
        "content_hash",
    )
    chunks = (
        [None] if ids is None else [ids[i : i + READ_CHUNK] for i in range(0, len(ids), READ_CHUNK)]
    )
    for chunk in chunks:
        rows = _live(dataset_id) if chunk is None else _live(dataset_id).filter(pk__in=chunk)
        for pk, revision, messages, tools, metadata, fmt, chash in (
            rows.values_list(*columns).order_by("id").iterator(chunk_size=READ_CHUNK)
        ):
            if fetched is not None:
                fetched.add(pk)
            content = content_of(messages, tools, metadata)
            yield (revision, fmt, chash), ExampleInput(pk, content, fmt, chash)


def _example_values(example_id, findings: list[Finding]) -> Iterable[tuple]:
    for f in findings:
        yield (
            example_id,
            f.rule_id,
            str(f.severity),
            "example",
            f.message,
            f.path or "",
            f.details,
        )


def _example_rows(dataset_id: int, example_id, findings: list[Finding]) -> Iterable[CheckResult]:
    for values in _example_values(example_id, findings):
        yield CheckResult(dataset_id=dataset_id, **dict(zip(COLUMNS, values, strict=True)))


def _member_messages(finding: Finding) -> dict:
    """Per example, a message naming its partners, for findings that group examples."""
    template = {"exact_duplicates": SAME_CONTENT, "conflicting_answers": SAME_PROMPT}.get(
        finding.rule_id
    )
    members = (finding.details or {}).get("members")
    if template is None or not members:
        return {}
    out = {}
    for group in members:
        for key in group:
            others = [k for k in group if k != key]
            named = ", ".join(str(k) for k in others[:MEMBERS_NAMED])
            if len(others) > MEMBERS_NAMED:
                named += f" and {len(others) - MEMBERS_NAMED} more"
            out[key] = template.format(s="s" if len(others) > 1 else "", ids=named)
    return out


def _dataset_values(finding: Finding) -> Iterable[tuple]:
    rule, severity = finding.rule_id, str(finding.severity)
    if not finding.example_keys:
        yield (None, rule, severity, "dataset", finding.message, "", finding.details)
        return
    messages = _member_messages(finding)
    for key in dict.fromkeys(finding.example_keys):
        yield (key, rule, severity, "dataset", messages.get(key, finding.message), "", None)


def _identity(values) -> tuple:
    # details compared as canonical JSON: what comes back from the database is decoded JSON
    details = values[-1]
    if details is not None:
        details = orjson.dumps(details, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS)
    return (*values[:-1], details)


def _cached_finding(finding: Finding) -> dict:
    # Member lists can name every example of a large dataset; the rows hold them all already.
    details = {k: v for k, v in (finding.details or {}).items() if k != "members"}
    keys = list(dict.fromkeys(finding.example_keys))
    return {
        "rule_id": finding.rule_id,
        "severity": str(finding.severity),
        "message": finding.message,
        "details": details or None,
        "example_count": len(keys),
        "example_ids": keys[:SAMPLE_KEYS],
    }


def _histograms(report: CheckReport) -> dict:
    counts = list(report.token_counts.values())
    return {
        "messages": histogram([c.n_messages for c in counts], bins=HISTOGRAM_BINS),
        "total_tokens": histogram([c.total_tokens for c in counts], bins=HISTOGRAM_BINS),
        "assistant_tokens": histogram([c.assistant_tokens for c in counts], bins=HISTOGRAM_BINS),
    }


def _lock_report(dataset_id: int) -> None:
    # Writers of a dataset's rows take its report row first: two replacing transactions would
    # otherwise each delete only the rows they saw and both insert (PostgreSQL read committed).
    DatasetReport.objects.get_or_create(dataset_id=dataset_id)
    list(DatasetReport.objects.select_for_update().filter(dataset_id=dataset_id).values("pk"))


# dataset id -> (its created_at, the kept scans): an id reused by a new dataset starts over
_states: OrderedDict[int, tuple] = OrderedDict()
# dataset id -> (computed_at, report) this process stored last, for the datasets in _states
_stored: dict[int, tuple] = {}
_states_lock = threading.Lock()  # one run at a time per process may touch the kept scans


def dataset_report_compute(dataset: Dataset, *, full: bool = False) -> tuple[CheckReport, int]:
    """The pure report over the dataset's non-archived examples, and how many it covers.
    Rescans only what changed since this process last checked the dataset, unless ``full``."""
    settings = check_settings_for(dataset)
    encoding = encoding_for(settings.encoding)
    with _states_lock:
        created, state = _states.pop(dataset.pk, (None, None))
        if full or state is None or created != dataset.created_at or state.settings != settings:
            state = report_state_build(_inputs(dataset.pk), settings, encoding=encoding)
        else:
            changed, gone = state.stale(_stamps(dataset.pk))
            fetched: set = set()
            state.update(_inputs(dataset.pk, changed, fetched), gone=gone, encoding=encoding)
            missing = [pk for pk in changed if pk not in fetched]
            if missing:  # archived or deleted between reading the stamps and reading the rows
                state.update((), gone=missing, encoding=encoding)
        report = state.report(_splits(dataset.pk) if state.has_pairs() else None)
        _keep(dataset, state)
    return report, len(state)


def _keep(dataset: Dataset, state: ReportState) -> None:
    if len(state) > KEPT_EXAMPLES:
        _stored.pop(dataset.pk, None)
        return
    _states[dataset.pk] = (dataset.created_at, state)
    while sum(len(kept) for _, kept in _states.values()) > KEPT_EXAMPLES:
        dropped, _ = _states.popitem(last=False)
        _stored.pop(dropped, None)


def dataset_checks_run(*, dataset_id: int, full: bool = False) -> DatasetReport | None:
    """Bring every check of the dataset up to date and replace its stored results; None if it
    is gone. ``full`` rescans every example instead of the changed ones (same results).

    Clears the pending marker first, so a change made while this runs queues another run.
    ``computed_at`` is when reading started: anything requested later makes the report stale.
    """
    dataset = Dataset.objects.filter(pk=dataset_id).first()
    if dataset is None:
        return None
    started_at = timezone.now()
    DatasetReport.objects.get_or_create(dataset_id=dataset_id)
    DatasetReport.objects.filter(dataset_id=dataset_id).update(queued_at=None)
    started = time.monotonic()
    try:
        report, n_read = dataset_report_compute(dataset, full=full)
        previous = None if full else _stored.get(dataset_id)
        _store(dataset, report, n_read, started_at, started, previous)
        if dataset_id in _states:
            _stored[dataset_id] = (started_at, report)
    except Exception:
        logger.exception("check run of dataset %s crashed", dataset_id)
        DatasetReport.objects.filter(dataset_id=dataset_id).update(failure=CRASHED)
        return DatasetReport.objects.get(dataset_id=dataset_id)
    return DatasetReport.objects.get(dataset_id=dataset_id)


def _store(
    dataset, report: CheckReport, n_read: int, started_at, started: float, previous=None
) -> None:
    """Make the stored rows those of ``report``. ``previous``: ``(computed_at, report)`` this
    process stored last for the dataset; while the stored report is still that one, only the
    examples and dataset rules whose findings differ from it are compared row by row."""
    with transaction.atomic():
        _lock_report(dataset.pk)
        stored_at = (
            DatasetReport.objects.filter(dataset_id=dataset.pk)
            .values_list("computed_at", flat=True)
            .first()
        )
        rows = CheckResult.objects.filter(dataset_id=dataset.pk)
        groups = None
        if previous is not None and stored_at is not None and previous[0] == stored_at:
            groups = _changed_groups(previous[1], report)
        if groups is not None and len(groups[0]) <= GROUPS_COMPARED:
            examples, rules = groups
            findings = report.example_findings
            wanted = [v for key in examples for v in _example_values(key, findings.get(key, ()))]
            wanted += [
                v for f in report.dataset_findings if f.rule_id in rules for v in _dataset_values(f)
            ]
            rows = rows.filter(
                Q(scope="example", example_id__in=examples) | Q(scope="dataset", rule_id__in=rules)
            )
        else:
            wanted = [
                v for key, fs in report.example_findings.items() for v in _example_values(key, fs)
            ]
            wanted += [v for finding in report.dataset_findings for v in _dataset_values(finding)]
        _rows_replace(dataset.pk, rows, wanted)
        DatasetReport.objects.filter(dataset_id=dataset.pk).update(
            computed_at=started_at,
            duration_ms=int((time.monotonic() - started) * 1000),
            settings_used=settings_snapshot(dataset),
            n_examples=n_read,
            token_stats=report.token_stats.as_dict(),
            histograms=_histograms(report),
            dataset_findings=[_cached_finding(f) for f in report.dataset_findings],
            failure="",
        )


def _changed_groups(before: CheckReport, after: CheckReport) -> tuple[list, set]:
    """The examples whose own findings differ between the reports, and the dataset rules whose
    findings differ (an unchanged example's findings are the same list in both)."""
    old, new = before.example_findings, after.example_findings
    examples = [k for k in old.keys() | new.keys() if old.get(k) != new.get(k)]

    def by_rule(report: CheckReport) -> dict:
        out: dict = {}
        for f in report.dataset_findings:
            out.setdefault(f.rule_id, []).append(f)
        return out

    old_rules, new_rules = by_rule(before), by_rule(after)
    rules = {r for r in old_rules.keys() | new_rules.keys() if old_rules.get(r) != new_rules.get(r)}
    return examples, rules


def _rows_replace(dataset_id: int, rows, wanted: list[tuple]) -> None:
    # Only the rows that changed are written: after one edit, most of a large dataset's rows
    # are the same, and rewriting them all cost more than the checks themselves.
    stored: dict[tuple, list[int]] = {}
    for pk, *values in rows.values_list("pk", *COLUMNS).order_by().iterator(chunk_size=READ_CHUNK):
        stored.setdefault(_identity(values), []).append(pk)
    new = []
    for values in wanted:
        same = stored.get(_identity(values))
        if same:
            same.pop()
        else:
            new.append(values)
    gone = [pk for pks in stored.values() for pk in pks]
    for i in range(0, len(gone), WRITE_BATCH):
        CheckResult.objects.filter(pk__in=gone[i : i + WRITE_BATCH]).delete()
    CheckResult.objects.bulk_create(
        [CheckResult(dataset_id=dataset_id, **dict(zip(COLUMNS, v, strict=True))) for v in new],
        batch_size=WRITE_BATCH,
    )


def example_checks_refresh(*, dataset: Dataset, example_ids: Iterable[int]) -> int:
    """Re-run the per-example rules on these examples and replace their example-scope rows.

    Dataset-scope rows are left to the next full run. Archived examples lose their rows.
    Returns the number of findings written.
    """
    ids = sorted(set(example_ids))
    if not ids:
        return 0
    settings = check_settings_for(dataset)
    encoding = encoding_for(settings.encoding)
    written = 0
    for start in range(0, len(ids), REFRESH_CHUNK):
        chunk = ids[start : start + REFRESH_CHUNK]
        rows = Example.objects.filter(dataset=dataset, pk__in=chunk).values_list(
            "id",
            "status",
            "current_revision__messages",
            "current_revision__tools",
            "current_revision__metadata",
        )
        new = []
        for pk, status, messages, tools, metadata in rows:
            if status == ExampleStatus.ARCHIVED:
                continue
            content = content_of(messages, tools, metadata)
            findings = check_example(content, settings, encoding=encoding)
            new.extend(_example_rows(dataset.pk, pk, findings))
        with transaction.atomic():
            _lock_report(dataset.pk)
            CheckResult.objects.filter(example_id__in=chunk, scope="example").delete()
            CheckResult.objects.bulk_create(new, batch_size=WRITE_BATCH)
        written += len(new)
    return written
