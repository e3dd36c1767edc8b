"""Whether a team may start another import: a free slot (FINETUNEDB_MAX_ACTIVE_IMPORTS_PER_TEAM)
and room for the file under its storage quota (see ``finetunedb.teams.quota``).

Each check runs once per moment, as cheap as that moment allows: before the request body is read
(:func:`import_admission_check` with ``upload_bytes=0``: slots and a full quota; the API calls it
through ``import_job_admit``), before the upload is copied into storage
(:func:`import_admission_size_check`: the real size against the usage already measured, no query
when the pre-body check ran), and again inside the transaction that creates the job with the
team row locked (:func:`import_admission_recheck`), so two uploads racing for the last slot or
the last bytes cannot both win. Only ``datasets_app/services/imports/`` calls these.

What the file decodes to is not known until it is read: the worker reads it within
:func:`import_limits` (the decoding caps and the team's room left), and the publishing
transaction measures the team once more with the rows in (:func:`import_publish_require_room`),
so imports of one team running side by side cannot together pass the quota either.
"""

from __future__ import annotations

from django.conf import settings

from finetunedb.exceptions import TeamStorageQuotaExceeded, TooManyActiveJobs
from finetunedb.teams.quota import (
    team_storage_quota,
    team_storage_refresh_uploads,
    team_storage_require_not_full,
    team_storage_require_room,
    team_storage_usage,
    team_storage_usage_to_check,
)
from finetunedb.teams.services import team_lock
from finetunedb.teams.storage_usage import StorageUsage, format_bytes

from ...formats import Limits
from ...models import ImportJob, ImportStatus

TOO_MANY_ACTIVE = (
    "This team already has {count} import(s) queued or running (the limit is {limit}); wait "
    "for one to finish, then upload again. Nothing was stored."
)
ACTIVE = (ImportStatus.QUEUED, ImportStatus.RUNNING)
OVER_QUOTA_AT_PUBLISH = (
    "With this import's rows the team would use {used}, over its storage quota of {quota}; "
    "nothing was imported. Import a smaller file, delete datasets the team no longer needs (a "
    "dataset with frozen versions is kept), or ask an admin to raise "
    "FINETUNEDB_TEAM_STORAGE_QUOTA_BYTES."
)


def import_active_limit() -> int:
    return int(settings.FINETUNEDB_MAX_ACTIVE_IMPORTS_PER_TEAM)


def import_active_count(*, team_id: int) -> int:
    return ImportJob.objects.filter(dataset__team_id=team_id, status__in=ACTIVE).count()


def import_slots_require_free(*, team_id: int) -> None:
    """Raise TooManyActiveJobs (409) when the team's queued + running imports fill the cap."""
    limit = import_active_limit()
    active = import_active_count(team_id=team_id)
    if active >= limit:
        raise TooManyActiveJobs(
            TOO_MANY_ACTIVE.format(count=active, limit=limit),
            extra={"active": active, "limit": limit},
        )


def import_admission_check(
    *, team_id: int, upload_bytes: int, usage: StorageUsage | None = None
) -> StorageUsage:
    """Refuse (409 or 413) an upload of ``upload_bytes`` the team has no slot or no room for.

    Returns the usage measured (or ``usage``, measured earlier in the same request, with its
    uploads part refreshed), for :func:`import_admission_recheck` to reuse. With
    ``upload_bytes=0`` (size not known yet) it refuses only a team with no byte left.
    """
    import_slots_require_free(team_id=team_id)
    if usage is None:
        usage = team_storage_usage_to_check(team_id=team_id)
    else:
        usage = team_storage_refresh_uploads(usage, team_id=team_id)
    if upload_bytes:
        team_storage_require_room(usage=usage, incoming_bytes=upload_bytes)
    else:
        team_storage_require_not_full(usage=usage, what="an upload", status_code=413)
    return usage


def import_admission_size_check(
    *, team_id: int, upload_bytes: int, usage: StorageUsage | None
) -> StorageUsage:
    """Before the upload is copied: the real size against the team's room.

    With ``usage`` from the pre-body check of the same request, only the size is new: the slots
    and the usage are not measured again (the re-check under the team lock covers what changed
    while the body streamed in). Without it (a page, the command line) this is the whole check.
    """
    if usage is None:
        return import_admission_check(team_id=team_id, upload_bytes=upload_bytes)
    if upload_bytes:
        team_storage_require_room(usage=usage, incoming_bytes=upload_bytes)
    return usage


def import_limits(*, team_id: int) -> Limits:
    """The caps the worker reads a file of this team within: the FINETUNEDB_MAX_DECODED_*,
    compression and blank-line settings, and the bytes left under the team's quota now."""
    decoded = int(settings.FINETUNEDB_MAX_DECODED_BYTES)
    return Limits(
        max_line_bytes=int(settings.FINETUNEDB_MAX_DECODED_ROW_BYTES),
        max_decoded_bytes=decoded,
        max_decompressed_bytes=decoded,
        quota_room_bytes=team_storage_usage_to_check(team_id=team_id).remaining,
        max_compression_ratio=int(settings.FINETUNEDB_MAX_COMPRESSION_RATIO),
        max_blank_lines=int(settings.FINETUNEDB_MAX_BLANK_LINES),
    )


def import_publish_require_room(*, team_id: int) -> None:
    """Inside the publishing transaction, after the rows are written: raise
    TeamStorageQuotaExceeded when the team, measured with them, is over its quota (the
    transaction then rolls back). The team row is locked first, so two imports of one team
    publishing at once are measured one after the other."""
    quota = team_storage_quota()
    if quota <= 0:
        return
    team_lock(team_id)
    usage = team_storage_usage(team_id=team_id)
    if usage.total > quota:
        raise TeamStorageQuotaExceeded(
            OVER_QUOTA_AT_PUBLISH.format(
                used=format_bytes(usage.total), quota=format_bytes(usage.quota)
            ),
            extra={"used_bytes": usage.total, "quota_bytes": usage.quota, "incoming_bytes": 0},
        )


def import_admission_recheck(*, team_id: int, upload_bytes: int, usage: StorageUsage) -> None:
    """The same decision inside the job-creating transaction, serialised per team.

    Locks the team row (PostgreSQL; SQLite's IMMEDIATE transactions already serialise writers)
    and re-measures only what a concurrent import changes: its slot and its stored upload.
    """
    team_lock(team_id)
    import_slots_require_free(team_id=team_id)
    fresh = team_storage_refresh_uploads(usage, team_id=team_id)
    team_storage_require_room(usage=fresh, incoming_bytes=upload_bytes)
