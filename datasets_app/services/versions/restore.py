"""Restore the working copy of a dataset to a version, and undo such a restore.

Nothing is deleted and no revision is reused: an example whose content differs gets a NEW
revision holding the version's content (its ``revision`` counter moves, as with any edit), so
the history reads forward and open editors see the change (412). A restore records every
example it touched; undoing it puts each one back the same way, provided nobody changed it since.
"""

from __future__ import annotations

from typing import NamedTuple

from django.db import connection, transaction
from django.db.models import F, Max
from django.utils import timezone

from finetunedb.exceptions import ConflictError
from finetunedb.teams.permissions import Action
from finetunedb.teams.scoping import require_role

from ...models import (
    Dataset,
    DatasetVersion,
    Example,
    ExampleRevision,
    ExampleStatus,
    RestoreChange,
    VersionEntry,
    VersionRestore,
)

CHANGED_MEANWHILE = "Examples changed while the restore ran: {ids}. Nothing was changed; try again."
ALREADY_UNDONE = "This restore was already undone."
EDITED_SINCE = (
    "These examples were changed after the restore, so undoing it would overwrite that work: "
    "{ids}. Nothing was changed."
)
CHUNK = 500


class Target(NamedTuple):
    example_id: int
    counter: int  # Example.revision as read; the update is conditional on it
    source_revision_id: int | None  # copy this revision's content, or None to keep the content
    split: str
    status: str


def _lock(dataset: Dataset) -> None:
    # Restores and freezes of one dataset queue on its row (SQLite serializes writers anyway).
    if connection.vendor == "postgresql":
        Dataset.objects.select_for_update().filter(pk=dataset.pk).first()


def _chunks(items, size=CHUNK):
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _new_revisions(user, targets: list[Target]) -> dict[int, ExampleRevision]:
    """One new revision per target that copies content, numbered after the example's last."""
    copying = [t for t in targets if t.source_revision_id is not None]
    created: dict[int, ExampleRevision] = {}
    for chunk in _chunks(copying):
        ids = [t.example_id for t in chunk]
        last = dict(
            ExampleRevision.objects.filter(example_id__in=ids)
            .values("example_id")
            .annotate(n=Max("number"))
            .values_list("example_id", "n")
        )
        sources = ExampleRevision.objects.in_bulk([t.source_revision_id for t in chunk])
        rows = []
        for t in chunk:
            src = sources[t.source_revision_id]
            rows.append(
                ExampleRevision(
                    example_id=t.example_id,
                    number=last.get(t.example_id, 0) + 1,
                    messages=src.messages,
                    tools=src.tools,
                    metadata=src.metadata,
                    content_hash=src.content_hash,
                    author=user,
                )
            )
        for rev in ExampleRevision.objects.bulk_create(rows):
            created[rev.example_id] = rev
    return created


def _apply(user, targets: list[Target]) -> dict[int, tuple[int, int]]:
    """Move every target to its state; ``{example_id: (current revision id, new counter)}``.
    Raises ConflictError (rolling the caller's transaction back) if any example moved on."""
    created = _new_revisions(user, targets)
    now = timezone.now()
    stale = []
    for t in targets:
        values = {"split": t.split, "status": t.status, "updated_at": now}
        rev = created.get(t.example_id)
        if rev is not None:
            values.update(current_revision_id=rev.pk, content_hash=rev.content_hash)
        # Conditional on the counter read earlier: the same optimistic lock as an edit.
        if not Example.objects.filter(pk=t.example_id, revision=t.counter).update(
            revision=F("revision") + 1, **values
        ):
            stale.append(t.example_id)
    if stale:
        raise ConflictError(CHANGED_MEANWHILE.format(ids=", ".join(map(str, stale[:20]))))
    current = {}
    for chunk in _chunks([t.example_id for t in targets]):
        current.update(
            {
                pk: (rev_id, counter)
                for pk, rev_id, counter in Example.objects.filter(pk__in=chunk).values_list(
                    "pk", "current_revision_id", "revision"
                )
            }
        )
    return current


def _plan(version: DatasetVersion) -> tuple[list[Target], dict[int, tuple]]:
    entries = {
        e[0]: e[1:]
        for e in VersionEntry.objects.filter(version=version).values_list(
            "example_id", "revision_id", "split", "status", "content_hash"
        )
    }
    targets, before = [], {}
    live = Example.objects.filter(dataset_id=version.dataset_id).values_list(
        "pk", "revision", "current_revision_id", "content_hash", "split", "status"
    )
    for pk, counter, rev_id, chash, split, status in live.iterator(chunk_size=5_000):
        entry = entries.get(pk)
        if entry is None:
            if status == ExampleStatus.ARCHIVED:
                continue
            target = Target(pk, counter, None, split, ExampleStatus.ARCHIVED)
        else:
            entry_rev, entry_split, entry_status, entry_hash = entry
            # Review progress since the freeze is kept; only archived rows come back.
            new_status = entry_status if status == ExampleStatus.ARCHIVED else status
            source = entry_rev if chash != entry_hash else None
            if source is None and split == entry_split and new_status == status:
                continue
            target = Target(pk, counter, source, entry_split, new_status)
        targets.append(target)
        before[pk] = (rev_id, split, status)
    return targets, before


def dataset_version_restore(*, user, version: DatasetVersion) -> VersionRestore:
    """Make the live dataset equal ``version`` (content, splits, which examples are active)."""
    dataset = version.dataset
    require_role(user, dataset.team_id, Action.CURATE)
    with transaction.atomic():
        _lock(dataset)
        targets, before = _plan(version)
        after = _apply(user, targets)
        counts = {
            "content": sum(1 for t in targets if t.source_revision_id is not None),
            "split": sum(1 for t in targets if t.split != before[t.example_id][1]),
            "archived": sum(1 for t in targets if t.status == ExampleStatus.ARCHIVED),
            "reactivated": sum(
                1 for t in targets if before[t.example_id][2] == ExampleStatus.ARCHIVED
            ),
            "examples": len(targets),
        }
        restore = VersionRestore.objects.create(
            dataset=dataset, version=version, counts=counts, created_by=user
        )
        RestoreChange.objects.bulk_create(
            [
                RestoreChange(
                    restore=restore,
                    example_id=t.example_id,
                    before_revision_id=before[t.example_id][0],
                    after_revision_id=after[t.example_id][0],
                    before_split=before[t.example_id][1],
                    after_split=t.split,
                    before_status=before[t.example_id][2],
                    after_status=t.status,
                    after_counter=after[t.example_id][1],
                )
                for t in targets
            ],
            batch_size=1_000,
        )
    return restore


def version_restore_undo(*, user, restore: VersionRestore) -> VersionRestore:
    """Put every example the restore touched back as it was. Refused (409) when already undone
    or when any of those examples changed after the restore."""
    require_role(user, restore.dataset.team_id, Action.CURATE)
    with transaction.atomic():
        _lock(restore.dataset)
        if VersionRestore.objects.filter(pk=restore.pk, undone_at__isnull=False).exists():
            raise ConflictError(ALREADY_UNDONE)
        changes = list(restore.changes.all())
        counters = {}
        for chunk in _chunks([c.example_id for c in changes]):
            counters.update(
                Example.objects.filter(pk__in=chunk).values_list("pk", "revision").iterator()
            )
        edited = [c.example_id for c in changes if counters[c.example_id] != c.after_counter]
        if edited:
            raise ConflictError(EDITED_SINCE.format(ids=", ".join(map(str, edited[:20]))))
        _apply(
            user,
            [
                Target(
                    c.example_id,
                    c.after_counter,
                    c.before_revision_id if c.before_revision_id != c.after_revision_id else None,
                    c.before_split,
                    c.before_status,
                )
                for c in changes
            ],
        )
        restore.undone_at = timezone.now()
        restore.undone_by = user
        restore.save(update_fields=["undone_at", "undone_by"])
    return restore
