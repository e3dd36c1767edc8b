"""The per-team storage quota (FINETUNEDB_TEAM_STORAGE_QUOTA_BYTES, 0 = unlimited).

A team's usage is what it makes the server keep, measured from columns (sizes recorded when
the files were written, so a web machine need not hold them) at the moment of asking (no
counter to drift). Each part is measured by the app that keeps it
(``datasets_app/services/storage.py``, ``training/services/storage.py``), registered in its
``AppConfig.ready``:

- ``uploads``: ``ImportJob.size_bytes`` of every import job of its datasets, for as long as the
  row exists (an upper bound with object storage, whose cleanup deletes the stored copy
  FINETUNEDB_UPLOAD_RETENTION_DAYS after the import ended); a deleted dataset's files go with the
  orphan sweep.
- ``reports``: the import error reports, by the size the worker recorded on each job
  (``ImportJob.report_bytes``).
- ``models``: every published model, by the size recorded on its row at publish
  (``ModelArtifact.size_bytes``, the manifest's files): what the store holds, the same figure
  with a bucket (``STORAGE_URL``) as with the local folder, a cached copy never counted twice.
  Checkpoints a running, failed or cancelled run keeps are counted where this machine's disk
  holds its run folder (the one-machine default); with object storage they stay on the training
  machine's disk, outside the store. Shared base-model caches are the server's, not counted.
- ``content``: the stored bytes of every example revision's messages, tools and metadata (UTF-8
  JSON text on SQLite, the compressed column size on PostgreSQL). Revisions are immutable and
  kept, so an edited example counts each of its revisions.

Not counted: database indexes and derived rows (check results, version entries, clusters),
which grow with the content and are rebuilt from it; exports, which are streamed and not kept.
"""

from __future__ import annotations

from dataclasses import replace

from django.conf import settings

from finetunedb.exceptions import TeamStorageQuotaExceeded

from .storage_usage import PARTS, StorageUsage, format_bytes, storage_part_measure

OVER_QUOTA = (
    "This team's storage quota is {quota} and it uses {used}; {what} of {incoming} would pass "
    "it. Delete datasets the team no longer needs (a dataset with frozen versions is kept), or "
    "ask an admin to raise FINETUNEDB_TEAM_STORAGE_QUOTA_BYTES."
)
FULL = (
    "This team's storage quota is {quota} and it uses {used}, so {what} cannot start. Delete "
    "datasets the team no longer needs (a dataset with frozen versions is kept), or ask an "
    "admin to raise FINETUNEDB_TEAM_STORAGE_QUOTA_BYTES."
)


def team_storage_quota() -> int:
    return int(settings.FINETUNEDB_TEAM_STORAGE_QUOTA_BYTES)


# The datasets and training apps depend on teams, not the reverse: each measures its own parts
# and registers them (storage_usage.storage_part_register in its AppConfig.ready); this module
# only composes them.


def team_upload_bytes(*, team_id: int) -> int:
    """Bytes of the team's stored import files."""
    return storage_part_measure("uploads", team_id=team_id)


def team_storage_usage(*, team_id: int) -> StorageUsage:
    """What the team keeps now, part by part, with the configured quota."""
    parts = {part: storage_part_measure(part, team_id=team_id) for part in PARTS}
    return StorageUsage(**parts, quota=team_storage_quota())


def team_storage_usage_to_check(*, team_id: int) -> StorageUsage:
    """The usage a quota check needs: measured when a quota is set, empty when unlimited (a
    check then never refuses, so the revision scan is skipped)."""
    if team_storage_quota() <= 0:
        return StorageUsage(quota=0)
    return team_storage_usage(team_id=team_id)


def team_storage_refresh_uploads(usage: StorageUsage, *, team_id: int) -> StorageUsage:
    """``usage`` with its uploads part measured again: the part a concurrent upload changes.

    Meant for the re-check inside the transaction that creates an import job, where the full
    measurement (a scan of every revision) would hold the team's lock too long."""
    return replace(usage, uploads=team_upload_bytes(team_id=team_id))


def team_storage_require_room(
    *, usage: StorageUsage, incoming_bytes: int, what: str = "an upload"
) -> None:
    """Raise TeamStorageQuotaExceeded (413) when ``incoming_bytes`` more would pass the quota."""
    if usage.would_exceed(incoming_bytes):
        raise TeamStorageQuotaExceeded(
            OVER_QUOTA.format(
                quota=format_bytes(usage.quota),
                used=format_bytes(usage.total),
                what=what,
                incoming=format_bytes(incoming_bytes),
            ),
            extra=_extra(usage, incoming_bytes),
        )


def team_storage_require_not_full(
    *, usage: StorageUsage, what: str, status_code: int = 409
) -> None:
    """Raise TeamStorageQuotaExceeded (409 by default) when the team has no byte left: for
    launches whose size is not known up front (a training run's files appear as it trains)."""
    if usage.full:
        raise TeamStorageQuotaExceeded(
            FULL.format(quota=format_bytes(usage.quota), used=format_bytes(usage.total), what=what),
            extra=_extra(usage, 0),
            status_code=status_code,
        )


def _extra(usage: StorageUsage, incoming_bytes: int) -> dict:
    return {
        "used_bytes": usage.total,
        "quota_bytes": usage.quota,
        "incoming_bytes": incoming_bytes,
    }
