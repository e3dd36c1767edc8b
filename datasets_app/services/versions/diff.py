"""What changed from one version to another, matched by example identity."""

from __future__ import annotations

import math

from django.db import connection

from finetunedb.exceptions import ApplicationError

from ...models import DatasetVersion, ExampleRevision, VersionEntry
from .messagediff import message_diff
from .stats import check_changes, check_rows, numeric_changes, statistics_rows

KINDS = ("added", "removed", "changed", "moved")
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
BAD_PAGE = "page and page_size are positive integers."
BAD_KIND = f"kind must be one of {', '.join(KINDS)}."

_ENTRIES_SQL = (
    f"SELECT example_id, revision_id, split, content_hash FROM {VersionEntry._meta.db_table} "  # noqa: S608
    "WHERE version_id = %s"
)


def _entries(version_id: int) -> dict[int, tuple]:
    # A plain cursor: the ORM's per-row object overhead would dominate a 100k-entry diff.
    with connection.cursor() as cursor:
        cursor.execute(_ENTRIES_SQL, [version_id])
        return {row[0]: row[1:] for row in cursor.fetchall()}


def _classify(old: dict, new: dict) -> list[tuple[int, tuple[str, ...]]]:
    items = []
    for example_id in sorted(old.keys() | new.keys()):
        before, after = old.get(example_id), new.get(example_id)
        if before is None:
            items.append((example_id, ("added",)))
        elif after is None:
            items.append((example_id, ("removed",)))
        else:
            kinds = ()
            if before[2] != after[2]:
                kinds += ("changed",)
            if before[1] != after[1]:
                kinds += ("moved",)
            if kinds:
                items.append((example_id, kinds))
    return items


def _page_number(value, default: int, cap: int | None = None) -> int:
    try:
        number = int(value) if value not in (None, "") else default
    except (TypeError, ValueError):
        raise ApplicationError(BAD_PAGE) from None
    if number < 1:
        raise ApplicationError(BAD_PAGE)
    return min(number, cap) if cap else number


def _content(revision_ids) -> dict[int, dict]:
    rows = ExampleRevision.objects.filter(pk__in=set(revision_ids)).values(
        "id", "messages", "tools"
    )
    return {r["id"]: r for r in rows}


def _detail(example_id, kinds, old, new, contents) -> dict:
    before, after = old.get(example_id), new.get(example_id)
    item = {
        "example_id": example_id,
        "kinds": list(kinds),
        "old": None if before is None else {"revision": before[0], "split": before[1]},
        "new": None if after is None else {"revision": after[0], "split": after[1]},
    }
    if "added" in kinds:
        rev = contents[after[0]]
        item["new"].update(messages=rev["messages"], tools=rev["tools"])
    elif "removed" in kinds:
        rev = contents[before[0]]
        item["old"].update(messages=rev["messages"], tools=rev["tools"])
    elif "changed" in kinds:
        a, b = contents[before[0]], contents[after[0]]
        item["messages"] = message_diff(a["messages"], b["messages"], a["tools"], b["tools"])
    return item


def dataset_version_diff(
    *, version: DatasetVersion, against: DatasetVersion, page=1, page_size=None, kind=None
) -> dict:
    """The changes that lead from ``against`` to ``version``: examples added, removed, changed
    (with a turn-level diff) and moved between splits, counted in ``summary``; the detailed
    items are paged (``kind`` keeps one kind only) in example-id order. Both versions must have
    been reached through the caller's scope already."""
    page = _page_number(page, 1)
    page_size = _page_number(page_size, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
    if kind not in (None, "") and kind not in KINDS:
        raise ApplicationError(BAD_KIND)
    old, new = _entries(against.pk), _entries(version.pk)
    items = _classify(old, new)
    summary = {k: sum(1 for _, kinds in items if k in kinds) for k in KINDS}
    summary["unchanged"] = len(old.keys() & new.keys()) - sum(
        1 for _, kinds in items if "added" not in kinds and "removed" not in kinds
    )
    if kind:
        items = [item for item in items if kind in item[1]]
    window = items[(page - 1) * page_size : page * page_size]
    wanted = [r[0] for i, _ in window for r in (old.get(i), new.get(i)) if r is not None]
    contents = _content(wanted)
    return {
        "version": _brief(version),
        "against": _brief(against),
        "summary": summary,
        "counts_change": numeric_changes(against.counts, version.counts),
        "stats_change": numeric_changes(against.stats, version.stats),
        "checks_change": check_changes(against.check_report, version.check_report),
        # the same changes as people read them: labelled, rounded, each figure once
        "statistics": statistics_rows(
            old_counts=against.counts,
            new_counts=version.counts,
            old_stats=against.stats,
            new_stats=version.stats,
        ),
        "checks": check_rows(against.check_report, version.check_report),
        "count": len(items),
        "page": page,
        "page_size": page_size,
        "num_pages": max(1, math.ceil(len(items) / page_size)),
        "results": [_detail(i, kinds, old, new, contents) for i, kinds in window],
    }


def _brief(version: DatasetVersion) -> dict:
    return {
        "id": version.pk,
        "dataset": version.dataset_id,
        "number": version.number,
        "name": version.name,
        "content_hash": version.content_hash,
    }
