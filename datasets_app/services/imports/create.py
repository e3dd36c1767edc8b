"""Creating an import: admission, the upload stored under a generated name, the job queued."""

from __future__ import annotations

import errno
import logging
import os
import shutil

from django.db import transaction

from finetunedb import faults
from finetunedb.exceptions import ApplicationError, ServiceUnavailable
from finetunedb.teams.permissions import Action
from finetunedb.teams.scoping import require_role
from finetunedb.teams.storage_usage import StorageUsage

from ... import storage
from ...formats import FORMATS
from ...models import Dataset, ExampleStatus, ImportJob, ImportMode, ImportStatus
from . import jobs, stored
from .admission import import_admission_check, import_admission_recheck, import_admission_size_check

logger = logging.getLogger(__name__)

UNKNOWN_FORMAT = "Unknown format {value!r}; use one of: {choices}."
UNKNOWN_MODE = "Unknown mode {value!r}; use strict or skip_invalid."
UNKNOWN_STATUS = (
    "Unknown status {value!r} for the imported examples; use one of: {choices} (default draft)."
)
BAD_MAPPING = "column_mapping must be a JSON object of field name → column name (strings)."
DISK_FULL = "The server ran out of disk space while storing the upload; nothing was stored. Try again later or ask an admin to free space."
RETRY_NOT_FAILED = "Only a failed import can be retried; this one is {status}."
RETRY_FILE_GONE = "The uploaded file of this import is no longer stored; upload it again."
BROKER_DOWN = "The job queue is unreachable, so the import was not started and nothing was stored. Try again in a minute."


def import_job_admit(*, user, dataset: Dataset) -> StorageUsage:
    """The check a view makes before it reads the request body: the role, a free import slot
    and a quota not already full (409 / 413). Pass what it returns to
    :func:`import_job_create` as ``usage``, so nothing it measured is measured again."""
    require_role(user, dataset.team_id, Action.IMPORT)
    return import_admission_check(team_id=dataset.team_id, upload_bytes=0)


def import_job_create(
    *,
    user,
    dataset: Dataset,
    upload,
    format: str = "auto",
    mode: str = ImportMode.STRICT,
    column_mapping: dict | None = None,
    skip_duplicates: bool = False,
    status: str = ExampleStatus.DRAFT,
    usage: StorageUsage | None = None,
) -> ImportJob:
    """Store an uploaded file under a generated name and queue its import.

    ``upload`` is a Django UploadedFile (or any object with ``name``, ``size`` and ``chunks()``,
    or ``temporary_file_path()``). ``usage``: what :func:`import_job_admit` returned for this
    request before the body was read (slots and usage are then not measured twice).
    ``status``: the status every created example starts in.
    """
    require_role(user, dataset.team_id, Action.IMPORT)
    errors = []
    if format not in FORMATS:
        errors.append(
            {
                "path": "format",
                "message": UNKNOWN_FORMAT.format(value=format, choices=", ".join(FORMATS)),
            }
        )
    if mode not in ImportMode.values:
        errors.append({"path": "mode", "message": UNKNOWN_MODE.format(value=mode)})
    if status not in ExampleStatus.values:
        errors.append(
            {
                "path": "status",
                "message": UNKNOWN_STATUS.format(
                    value=status, choices=", ".join(ExampleStatus.values)
                ),
            }
        )
    if column_mapping is not None and (
        not isinstance(column_mapping, dict)
        or not all(isinstance(k, str) and isinstance(v, str) for k, v in column_mapping.items())
    ):
        errors.append({"path": "column_mapping", "message": BAD_MAPPING})
    if errors:
        raise ApplicationError("Invalid import options.", errors=errors)

    # Refused for a full slot cap or quota before a byte is copied into storage; the re-check
    # under the team lock below covers a concurrent upload, and the copy is removed if it says no.
    usage = import_admission_size_check(
        team_id=dataset.team_id, upload_bytes=_upload_size(upload), usage=usage
    )
    stored_name = storage.new_name()
    target = storage.path_for(storage.UPLOADS, stored_name)
    try:
        _save_upload(upload, target)
    except OSError as exc:
        if exc.errno != errno.ENOSPC:
            raise
        raise ApplicationError(DISK_FULL, code="insufficient_storage", status_code=507) from None
    try:
        size = target.stat().st_size
        # In the store before the row exists: a worker on another machine fetches it from there.
        stored.upload_store(team_id=dataset.team_id, stored_name=stored_name, path=target)
        with transaction.atomic():
            import_admission_recheck(team_id=dataset.team_id, upload_bytes=size, usage=usage)
            job = ImportJob.objects.create(
                dataset=dataset,
                created_by=user,
                original_name=os.path.basename(getattr(upload, "name", "") or "")[:255],
                stored_name=stored_name,
                size_bytes=size,
                requested_format=format,
                mode=mode,
                column_mapping=column_mapping,
                skip_duplicates=skip_duplicates,
                initial_status=status,
            )
            transaction.on_commit(lambda: _enqueue_or_withdraw(job.pk))
    except Exception:
        storage.remove_quietly(target)
        stored.upload_unstore(team_id=dataset.team_id, stored_name=stored_name)
        raise
    stored.upload_local_drop(stored_name=stored_name)  # the store has it; the worker fetches it
    return job


class _StoredUpload:
    """A stored upload presented as an upload (name, size, a path to copy from)."""

    def __init__(self, path, name: str):
        self.path, self.name = path, name
        self.size = path.stat().st_size

    def temporary_file_path(self) -> str:
        return str(self.path)


def import_job_retry(*, user, job: ImportJob, mode: str = ImportMode.SKIP_INVALID) -> ImportJob:
    """Start a new import of a failed job's stored file with the same options except ``mode``
    (the failed-import page's "Retry skipping invalid rows"). The file is copied under a new
    name, so the new job owns its upload like any other and the failed one keeps its report."""
    usage = import_job_admit(user=user, dataset=job.dataset)
    if job.status != ImportStatus.FAILED:
        raise ApplicationError(RETRY_NOT_FAILED.format(status=job.get_status_display().lower()))
    try:
        path = stored.upload_local(job)
    except FileNotFoundError:
        path = None
    if path is None or not path.is_file():
        raise ApplicationError(RETRY_FILE_GONE, code="upload_gone")
    try:
        return import_job_create(
            user=user,
            dataset=job.dataset,
            upload=_StoredUpload(path, job.original_name),
            format=job.requested_format,
            mode=mode,
            column_mapping=job.column_mapping,
            skip_duplicates=job.skip_duplicates,
            status=job.initial_status,
            usage=usage,
        )
    finally:
        stored.upload_local_drop(stored_name=job.stored_name)  # fetched for the copy only


def _enqueue_or_withdraw(job_id: int) -> None:
    # Runs after the commit. With the broker down, a queued row nobody will ever be told about
    # would wait for the next worker restart: withdraw it (the caller removes the file) and
    # answer 503, so the client retries instead of polling a job that never starts.
    try:
        jobs.import_job_enqueue(job_id)
    except Exception as exc:
        logger.warning("could not enqueue import job %s: %s", job_id, exc)
        ImportJob.objects.filter(pk=job_id, status=ImportStatus.QUEUED).delete()
        raise ServiceUnavailable(BROKER_DOWN, code="queue_unavailable") from exc


def _upload_size(upload) -> int:
    """The upload's size when known without reading it (0 when not: the re-check has it)."""
    size = getattr(upload, "size", None)
    if isinstance(size, int):
        return size
    temporary = getattr(upload, "temporary_file_path", None)
    return os.path.getsize(temporary()) if temporary is not None else 0


def _save_upload(upload, target) -> None:
    temporary = getattr(upload, "temporary_file_path", None)
    partial = target.with_suffix(".part")
    try:
        if temporary is not None:
            shutil.copyfile(temporary(), partial)
        else:
            with open(partial, "wb") as out:
                for chunk in upload.chunks():
                    out.write(chunk)
        faults.fault_point("upload.save")
        storage.fsync_file(partial)
    except BaseException:
        storage.remove_quietly(partial)
        raise
    os.replace(partial, target)
