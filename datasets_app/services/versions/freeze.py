"""Freezing a dataset into an immutable version, behind its quality gates."""

from __future__ import annotations

import hashlib

from django.db import connection, transaction
from django.db.models import Count, Max, Q

from finetunedb import faults
from finetunedb.events import event_emit
from finetunedb.exceptions import ApplicationError, ConflictError
from finetunedb.teams.permissions import Action
from finetunedb.teams.scoping import require_role

from ...models import (
    CheckResult,
    Dataset,
    DatasetVersion,
    Example,
    ExampleStatus,
    Severity,
    Split,
    VersionEntry,
)
from .gates import freeze_gate_findings
from .stats import check_summary, dataset_stats

EMPTY = "This dataset has no examples that are not archived; there is nothing to freeze."
BLOCKED = (
    "The freeze is blocked: {count} problem(s) must be fixed first, or freeze anyway with "
    "force and a reason."
)
REASON_REQUIRED = "Forcing a freeze past its quality gate needs a reason."
NAME_TOO_LONG = "A version name is at most 200 characters."
NOT_APPROVED = "The dataset requires every example to be approved; these are not."
FIRST_IDS = 10
HASH_BATCH = 20_000

_ENTRY = VersionEntry._meta.db_table
_EXAMPLE = Example._meta.db_table
_REVISION = Example._meta.get_field("current_revision").related_model._meta.db_table

# One statement, so the snapshot is one read: every example contributes the revision and split
# it had at that instant, never its split from before an edit and its content from after.
SNAPSHOT_SQL = f"""
INSERT INTO {_ENTRY} (version_id, example_id, revision_id, split, status, content_hash)
SELECT %s, e.id, e.current_revision_id, e.split, e.status, r.content_hash
FROM {_EXAMPLE} e JOIN {_REVISION} r ON r.id = e.current_revision_id
WHERE e.dataset_id = %s AND e.status <> %s
"""  # noqa: S608 - table names are the models' own


def _collate() -> str:
    # Byte order, as canonical.version_hash sorts: PostgreSQL's default collation is not.
    return ' COLLATE "C"' if connection.vendor == "postgresql" else ""


def _hashes_of_split_sql() -> str:
    return (
        f"SELECT content_hash FROM {_ENTRY} WHERE version_id = %s AND split = %s "  # noqa: S608
        f"ORDER BY content_hash{_collate()}"
    )


def _all_lines_sql() -> str:
    return (
        f"SELECT split, content_hash FROM {_ENTRY} WHERE version_id = %s "  # noqa: S608
        f"ORDER BY split{_collate()}, content_hash{_collate()}"
    )


def gate_message(blockers: list[dict]) -> str:
    """The 409's message: how many problems, and the registered gates' own messages (the
    coverage plan names its unmet targets), which are not about examples one can list."""
    message = BLOCKED.format(count=sum(b["count"] for b in blockers))
    extra = [b["message"] for b in blockers if b["rule_id"] in GATE_RULES_NAMED]
    return " ".join([message, *extra])


GATE_RULES_NAMED = {"coverage_plan"}


def version_gate(dataset: Dataset, *, warnings: list | None = None) -> list[dict]:
    """What blocks a freeze of ``dataset`` now: one item per error-level rule (``rule_id``,
    ``count``, ``message``, first ``example_ids``), when the dataset requires approval one
    ``require_approval`` item for the examples that are not approved, and the blocking findings
    of the gates other apps registered (gates.py). Empty when nothing does. The registered
    gates' warnings are appended to ``warnings`` when given."""
    live = ~Q(example__status=ExampleStatus.ARCHIVED) | Q(example__isnull=True)
    errors = CheckResult.objects.filter(dataset=dataset, severity=Severity.ERROR).filter(live)
    blockers = []
    for row in errors.values("rule_id").annotate(count=Count("id")).order_by("rule_id"):
        first = errors.filter(rule_id=row["rule_id"]).order_by("example_id", "id")
        blockers.append(
            {
                "rule_id": row["rule_id"],
                "count": row["count"],
                "message": first.values_list("message", flat=True).first() or "",
                "example_ids": [
                    i
                    for i in first.exclude(example__isnull=True)
                    .values_list("example_id", flat=True)
                    .distinct()[:FIRST_IDS]
                ],
            }
        )
    if dataset.effective_settings.get("require_approval"):
        pending = (
            Example.objects.filter(dataset=dataset)
            .exclude(status__in=[ExampleStatus.ARCHIVED, ExampleStatus.APPROVED])
            .order_by("id")
        )
        count = pending.count()
        if count:
            blockers.append(
                {
                    "rule_id": "require_approval",
                    "count": count,
                    "message": NOT_APPROVED,
                    "example_ids": list(pending.values_list("id", flat=True)[:FIRST_IDS]),
                }
            )
    blocking, warned = freeze_gate_findings(dataset)
    if warnings is not None:
        warnings.extend(warned)
    return blockers + blocking


def _seal(version_id: int, total: int) -> tuple[str, dict]:
    """The version hash and the counts per split, read back from the ``total`` entries just
    written, in the order of ``canonical.version_hash``."""
    digest = hashlib.sha256()
    counts: dict[str, int] = {}
    with connection.cursor() as cursor:
        # One sorted read per split sorts less than one sorted read of everything; the known
        # split names in byte order give the same line order.
        for split in sorted(Split.values):
            cursor.execute(_hashes_of_split_sql(), [version_id, split])
            while rows := cursor.fetchmany(HASH_BATCH):
                digest.update("".join(f"{split}\t{h}\n" for (h,) in rows).encode())
                counts[split] = counts.get(split, 0) + len(rows)
        if sum(counts.values()) == total:
            return digest.hexdigest(), counts
        # A split value outside the choices (raw imports): hash everything in one sorted read.
        digest, counts = hashlib.sha256(), {}
        cursor.execute(_all_lines_sql(), [version_id])
        while rows := cursor.fetchmany(HASH_BATCH):
            digest.update("".join(f"{s}\t{h}\n" for s, h in rows).encode())
            for split, _ in rows:
                counts[split] = counts.get(split, 0) + 1
    return digest.hexdigest(), counts


def dataset_version_freeze(
    *, user, dataset: Dataset, name: str = "", notes: str = "", force=False, reason: str = ""
) -> DatasetVersion:
    """Freeze the dataset's non-archived examples into the next numbered version.

    400 for an empty dataset or a force without a reason; 409 (``code="gate"``, with
    ``blockers``) when error-level check results or the approval rule block it and ``force`` is
    false. A forced version stores the reason and what it was forced past."""
    require_role(user, dataset.team_id, Action.FREEZE)
    name = (name or "").strip()
    reason = (reason or "").strip()
    if len(name) > 200:
        raise ApplicationError(NAME_TOO_LONG, errors=[{"path": "name", "message": NAME_TOO_LONG}])
    if force and not reason:
        raise ApplicationError(
            REASON_REQUIRED, errors=[{"path": "reason", "message": REASON_REQUIRED}]
        )
    with transaction.atomic():
        # Two freezes of one dataset must not read the same max(number): PostgreSQL queues them
        # on the dataset row; SQLite's IMMEDIATE transactions are serialized already.
        if connection.vendor == "postgresql":
            Dataset.objects.select_for_update().filter(pk=dataset.pk).first()
        live = Example.objects.filter(dataset=dataset).exclude(status=ExampleStatus.ARCHIVED)
        if not live.exists():
            raise ApplicationError(EMPTY, code="empty")
        warnings: list[dict] = []
        blockers = version_gate(dataset, warnings=warnings)
        if blockers and not force:
            raise ConflictError(
                gate_message(blockers),
                code="gate",
                extra={"blockers": blockers},
            )
        parent = DatasetVersion.objects.filter(dataset=dataset).order_by("-number").first()
        number = (
            DatasetVersion.objects.filter(dataset=dataset).aggregate(n=Max("number"))["n"] or 0
        ) + 1
        report = check_summary(dataset)
        if force:
            report["forced_past"] = blockers
        if warnings:
            report["warnings"] = warnings
        version = DatasetVersion.objects.create(
            dataset=dataset,
            number=number,
            name=name or f"v{number}",
            notes=notes or "",
            parent=parent,
            content_hash="",
            check_report=report,
            forced=bool(force),
            force_reason=reason if force else "",
            created_by=user,
        )
        with connection.cursor() as cursor:
            cursor.execute(SNAPSHOT_SQL, [version.pk, dataset.pk, ExampleStatus.ARCHIVED])
            total = cursor.rowcount
        # Sealing: once the hash is set, the triggers freeze the row and its entries.
        version.content_hash, version.counts = _seal(version.pk, total)
        version.stats = dataset_stats(dataset, by_split=version.counts)
        version.save(update_fields=["content_hash", "counts", "stats"])
        event_emit(  # sent once this transaction commits (finetunedb/events.py)
            team_id=dataset.team_id,
            type="version.frozen",
            data={
                "version": {
                    "id": version.pk,
                    "number": version.number,
                    "name": version.name,
                    "content_hash": version.content_hash,
                    "counts": version.counts,
                    "forced": version.forced,
                    "created_by": getattr(user, "username", None),
                    "url": f"/api/v1/versions/{version.pk}/",
                    "export_url": f"/api/v1/versions/{version.pk}/export/",
                },
                "dataset": {"id": dataset.pk, "name": dataset.name},
            },
        )
        faults.fault_point("freeze.before_commit")
    return version


def dataset_version_update(*, user, version: DatasetVersion, name=None, notes=None):
    """Rename a version or edit its notes; nothing else of a version can change."""
    require_role(user, version.dataset.team_id, Action.FREEZE)
    fields = []
    if name is not None:
        name = name.strip()
        if not name or len(name) > 200:
            raise ApplicationError(
                NAME_TOO_LONG, errors=[{"path": "name", "message": "1 to 200 characters"}]
            )
        version.name = name
        fields.append("name")
    if notes is not None:
        version.notes = notes
        fields.append("notes")
    if fields:
        version.save(update_fields=fields)
    return version
