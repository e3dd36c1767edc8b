"""The safe-fix preview as a job: one scan finds every example the fixes would change (the slow
part: every selected example is read and fixed in memory), then any page of the preview is
computed for its own 50 examples only. The scan writes nothing."""

from __future__ import annotations

from collections.abc import Callable

from finetunedb.teams.permissions import Action
from finetunedb.teams.scoping import require_role

from ...models import Dataset
from ..selection import examples_selected_ids
from .fixes import CHUNK, PREVIEW_MAX, _check_fix_ids, _fixed

SCANNING = "Applying the fixes to every selected example in memory"


def fix_ids_check(fix_ids) -> list[str]:
    """The known fix ids asked for, in order; 400 for none or an unknown one."""
    return _check_fix_ids(fix_ids)


def example_fixes_scan(
    *, user, dataset: Dataset, fix_ids, queryset, progress: Callable | None = None
) -> dict:
    """Counts and the ids of the examples the fixes change, reporting ``progress(stage=, done=,
    total=)`` every chunk."""
    require_role(user, dataset.team_id, Action.CURATE)
    fix_ids = _check_fix_ids(fix_ids)
    pks = examples_selected_ids(dataset, queryset=queryset)
    changed: list[int] = []
    changes = 0
    for start in range(0, len(pks), CHUNK):
        if progress:
            progress(stage=SCANNING, done=start, total=len(pks))
        for pk, _, _, result in _fixed(pks[start : start + CHUNK], fix_ids):
            changed.append(pk)
            changes += len(result.changes)
    return {
        "fix_ids": fix_ids,
        "examples_selected": len(pks),
        "examples_changed": len(changed),
        "changes_total": changes,
        "changed_ids": changed,
    }


def example_fixes_page(*, dataset: Dataset, scan: dict, offset: int = 0, limit: int = 50) -> dict:
    """One page of a scan's preview: each changed example's changes as they would be made now.
    An example edited since the scan so that the fixes no longer change it is left out."""
    limit = max(1, min(int(limit), PREVIEW_MAX))
    offset = max(0, int(offset))
    ids = scan["changed_ids"][offset : offset + limit]
    results = [
        {"example_id": pk, "revision": revision, "changes": [c.as_dict() for c in result.changes]}
        for pk, revision, _, result in _fixed(ids, scan["fix_ids"])
    ]
    return {
        **{k: v for k, v in scan.items() if k != "changed_ids"},
        "offset": offset,
        "limit": limit,
        "results": results,
        "unchanged_since": len(ids) - len(results),
    }
