"""Safe fixes as a bulk action: a preview of every change, then new revisions for the changed
examples (the same immutable-revision and revision-counter mechanism as an edit; the old
revisions stay)."""

from __future__ import annotations

from django.db import transaction
from django.db.models import F, Max
from django.utils import timezone

from finetunedb.exceptions import ApplicationError
from finetunedb.teams.permissions import Action
from finetunedb.teams.scoping import require_role

from ... import canonical
from ...checks import FIXES, apply_fixes
from ...models import Dataset, Example, ExampleRevision
from ..selection import examples_selected_ids
from .engine import content_of
from .schedule import dataset_checks_schedule
from .store import example_checks_refresh

CHUNK = 500
PREVIEW_MAX = 200

NO_FIXES = "Choose at least one fix."
UNKNOWN_FIXES = "Unknown fix ids: {ids}. Known: {known}."


def _check_fix_ids(fix_ids) -> list[str]:
    wanted = [str(f) for f in fix_ids or []]
    if not wanted:
        raise ApplicationError(NO_FIXES, errors=[{"path": "fix_ids", "message": NO_FIXES}])
    unknown = sorted(set(wanted) - FIXES.keys())
    if unknown:
        message = UNKNOWN_FIXES.format(ids=", ".join(unknown), known=", ".join(FIXES))
        raise ApplicationError(message, errors=[{"path": "fix_ids", "message": message}])
    return list(dict.fromkeys(wanted))


def _fixed(pks: list[int], fix_ids: list[str]):
    """Yield ``(pk, revision, metadata, FixResult)`` for every selected example a fix changes."""
    for start in range(0, len(pks), CHUNK):
        rows = (
            Example.objects.filter(pk__in=pks[start : start + CHUNK])
            .order_by("pk")
            .values_list(
                "pk",
                "revision",
                "current_revision__messages",
                "current_revision__tools",
                "current_revision__metadata",
            )
        )
        for pk, revision, messages, tools, metadata in rows:
            result = apply_fixes(content_of(messages, tools), fix_ids)
            if result.changed:
                yield pk, revision, metadata, result


def example_fixes_preview(
    *, user, dataset: Dataset, fix_ids, ids=None, queryset=None, offset=0, limit=50
) -> dict:
    """What applying ``fix_ids`` to the selection would change, one page of examples at a time."""
    require_role(user, dataset.team_id, Action.CURATE)
    fix_ids = _check_fix_ids(fix_ids)
    pks = examples_selected_ids(dataset, ids=ids, queryset=queryset)
    limit = max(1, min(int(limit), PREVIEW_MAX))
    offset = max(0, int(offset))
    changed = changes = 0
    results = []
    for pk, revision, _, result in _fixed(pks, fix_ids):
        if offset <= changed < offset + limit:
            results.append(
                {
                    "example_id": pk,
                    "revision": revision,
                    "changes": [c.as_dict() for c in result.changes],
                }
            )
        changed += 1
        changes += len(result.changes)
    return {
        "fix_ids": fix_ids,
        "examples_selected": len(pks),
        "examples_changed": changed,
        "changes_total": changes,
        "offset": offset,
        "limit": limit,
        "results": results,
    }


def example_fixes_apply(
    *,
    user,
    dataset: Dataset,
    fix_ids,
    ids=None,
    queryset=None,
    expected_count: int | None = None,
    expected_token: str | None = None,
) -> dict:
    """Apply the fixes: each changed example gets a new revision and its counter moves; examples
    that changed under us since they were read (counter moved) are skipped, not overwritten.
    A selection other than the one the caller confirmed (``expected_count`` /
    ``expected_token``) is refused with a 409 before anything changes."""
    require_role(user, dataset.team_id, Action.CURATE)
    fix_ids = _check_fix_ids(fix_ids)
    pks = examples_selected_ids(
        dataset,
        ids=ids,
        queryset=queryset,
        expected_count=expected_count,
        expected_token=expected_token,
    )
    counts = {"examples_selected": len(pks), "changed": 0, "changes": 0, "skipped_conflicts": 0}
    counts["skipped_invalid"] = 0
    touched: list[int] = []
    with transaction.atomic():
        pending = []
        for item in _fixed(pks, fix_ids):
            pending.append(item)
            if len(pending) >= CHUNK:
                touched += _write(user, pending, counts)
                pending = []
        touched += _write(user, pending, counts)
        if touched:
            example_checks_refresh(dataset=dataset, example_ids=touched)
            dataset_checks_schedule(dataset_id=dataset.pk)
    return counts


def _write(user, items, counts: dict) -> list[int]:
    now = timezone.now()
    winners = []
    for pk, revision, metadata, result in items:
        if canonical.validate_content({**result.content, "metadata": metadata or {}}):
            counts["skipped_invalid"] += 1
            continue
        # The conditional UPDATE is the same optimistic lock an edit takes.
        if not Example.objects.filter(pk=pk, revision=revision).update(
            revision=F("revision") + 1, updated_at=now
        ):
            counts["skipped_conflicts"] += 1
            continue
        winners.append((pk, metadata, result))
    if not winners:
        return []
    numbers = dict(
        ExampleRevision.objects.filter(example_id__in=[w[0] for w in winners])
        .values("example_id")
        .annotate(top=Max("number"))
        .values_list("example_id", "top")
    )
    revisions = []
    for pk, metadata, result in winners:
        messages, tools = result.content["messages"], result.content.get("tools")
        revisions.append(
            ExampleRevision(
                example_id=pk,
                number=numbers.get(pk, 0) + 1,
                messages=messages,
                tools=tools or None,
                metadata=metadata or {},
                content_hash=canonical.content_hash(messages, tools),
                author=user,
            )
        )
        counts["changes"] += len(result.changes)
    created = ExampleRevision.objects.bulk_create(revisions)
    examples = [
        Example(pk=r.example_id, current_revision_id=r.pk, content_hash=r.content_hash)
        for r in created
    ]
    Example.objects.bulk_update(examples, ["current_revision", "content_hash"])
    counts["changed"] += len(created)
    return [r.example_id for r in created]
