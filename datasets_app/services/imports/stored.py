"""Import files in object storage (finetunedb/storage.py), so the import worker need not share a
folder with the web machine: the web copies the upload into the store before the job row exists;
the worker fetches it into its own folder when it is not there, and stores the error report
before the job's status changes, so the web can serve it. Neither keeps its copy once the store
holds it and this machine no longer needs it (the web's after the job row is recorded, the
worker's once the import is over). With the local-folder default (``make run``) nothing is copied
and nothing is dropped: the folder is the store.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from django.db.models import Q

from finetunedb import storage as object_storage
from finetunedb.storage import StoredFileMissing

from ... import storage
from ...models import ImportJob, ImportStatus

UPLOAD_GONE = (
    "The uploaded file is not in the object store (deleted, or the worker's STORAGE_URL names "
    "another store than the web's); upload it again."
)


def _upload_key(team_id: int, stored_name: str) -> str:
    return object_storage.key_for(team_id=team_id, kind=object_storage.UPLOADS, name=stored_name)


def _report_key(team_id: int, stored_name: str) -> str:
    name = f"{stored_name}.errors.jsonl"
    return object_storage.key_for(team_id=team_id, kind=object_storage.REPORTS, name=name)


def upload_store(*, team_id: int, stored_name: str, path: Path) -> None:
    if object_storage.remote():
        with open(path, "rb") as handle:
            object_storage.file_put(key=_upload_key(team_id, stored_name), content=handle)


def upload_unstore(*, team_id: int, stored_name: str) -> None:
    if object_storage.remote():
        object_storage.file_delete(_upload_key(team_id, stored_name))


def upload_local(job: ImportJob) -> Path:
    """The job's upload on this machine's disk, fetched from the store when it is not there;
    ``StoredFileMissing`` when it is in neither place."""
    path = storage.path_for(storage.UPLOADS, job.stored_name)
    if not path.is_file() and object_storage.remote():
        object_storage.file_fetch(
            key=_upload_key(job.dataset.team_id, job.stored_name), destination=path
        )
    return path


def upload_open(job: ImportJob) -> IO[bytes]:
    """:func:`upload_local` opened for reading. With object storage a copy that vanishes between
    the check and the open (a web process sharing this folder dropped its copy) is fetched."""
    try:
        return open(upload_local(job), "rb")
    except StoredFileMissing:
        raise
    except FileNotFoundError:
        if not object_storage.remote():
            raise
        return open(upload_local(job), "rb")


def upload_local_drop(*, stored_name: str) -> None:
    """Remove this machine's copy of an upload the object store holds: the web's once its job row
    is recorded, a fetched one once it was read. With the local-folder default the file is the
    only copy and stays."""
    if object_storage.remote():
        storage.remove_quietly(storage.path_for(storage.UPLOADS, stored_name))


def import_job_local_copies_drop(job: ImportJob) -> None:
    """Once the import is over (succeeded or failed), remove this machine's copies of its upload
    and error report: the store keeps both (the upload for a retry within
    FINETUNEDB_UPLOAD_RETENTION_DAYS, the report for its download), and nothing here reads them
    again (a worker that took the job over finishes it and drops its own). With the local-folder
    default they are the only copies and stay."""
    over = (ImportStatus.SUCCEEDED, ImportStatus.FAILED)
    if object_storage.remote() and ImportJob.objects.filter(pk=job.pk, status__in=over).exists():
        storage.remove_quietly(
            storage.path_for(storage.UPLOADS, job.stored_name),
            storage.path_for(storage.REPORTS, job.stored_name, ".errors.jsonl"),
        )


def report_store(job: ImportJob, path: Path) -> None:
    if object_storage.remote():
        with open(path, "rb") as handle:
            object_storage.file_put(
                key=_report_key(job.dataset.team_id, job.stored_name), content=handle
            )


def import_job_error_report_local(job: ImportJob) -> Path | None:
    """The job's error report on this machine's disk (fetched when needed), or None."""
    path = storage.path_for(storage.REPORTS, job.stored_name, ".errors.jsonl")
    if path.is_file() or not object_storage.remote():
        return path if path.is_file() else None
    try:
        return object_storage.file_fetch(
            key=_report_key(job.dataset.team_id, job.stored_name), destination=path
        )
    except object_storage.StoredFileMissing:
        return None


def uploads_referenced(policy):
    """finetunedb.storage_cleanup: an upload stays while its import may still read it (queued,
    running) and for the retention after it finished or failed (a retry copies it)."""
    cutoff = datetime.fromtimestamp(policy.now - policy.upload_retention_s, tz=UTC)
    finished = Q(status__in=(ImportStatus.SUCCEEDED, ImportStatus.FAILED))
    jobs = ImportJob.objects.filter(
        ~finished | Q(finished_at__isnull=True) | Q(finished_at__gt=cutoff)
    )
    keep = {
        _upload_key(team, name)
        for team, name in jobs.values_list("dataset__team_id", "stored_name")
    }
    return keep.__contains__


def reports_referenced(policy):
    """finetunedb.storage_cleanup: an error report stays as long as its job row (its page links it)."""
    rows = ImportJob.objects.values_list("dataset__team_id", "stored_name")
    keep = {_report_key(team, name) for team, name in rows}
    return keep.__contains__
