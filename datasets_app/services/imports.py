"""Imports: an uploaded file becomes examples all at once or not at all.

The job claims its row with a conditional UPDATE (queued → running, or a running job whose lease
expired), parses the file into a staging file on disk while reporting progress on the row, and
publishes every staged row together with the final status in ONE transaction. A worker killed at
any point leaves nothing visible; the retried job starts over and cannot insert twice because a
published job is no longer claimable.
"""

from __future__ import annotations

import errno
import logging
import os
import shutil
import time
from datetime import timedelta

import orjson
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from finetunedb import faults
from finetunedb.exceptions import ApplicationError, ServiceUnavailable, TeamStorageQuotaExceeded
from finetunedb.leases import JobKind, lease_claim, lease_held, lease_recover, lease_renew
from finetunedb.teams.permissions import Action
from finetunedb.teams.scoping import require_role
from finetunedb.teams.storage_usage import StorageUsage

from .. import canonical, storage
from ..formats import FORMATS, STOP_CODES, ParsedRow, iter_rows
from ..models import Dataset, Example, ExampleStatus, ImportJob, ImportMode, ImportStatus
from .checks import dataset_checks_schedule
from .example_rows import examples_insert_new
from .imports_admission import (
    import_admission_check,
    import_admission_recheck,
    import_limits,
    import_publish_require_room,
)

logger = logging.getLogger(__name__)

LEASE = timedelta(seconds=60)
PROGRESS_EVERY_S = 0.5
MAX_ATTEMPTS = 3
FIRST_ERRORS = 50

UNKNOWN_FORMAT = "Unknown format {value!r}; use one of: {choices}."
UNKNOWN_MODE = "Unknown mode {value!r}; use strict or skip_invalid."
BAD_MAPPING = "column_mapping must be a JSON object of field name → column name (strings)."
STRICT_FAILED = "{count} line(s) are invalid, so nothing was imported (strict mode). Fix them, or import with mode=skip_invalid to keep the good lines."
NO_VALID_ROWS = "The file has no valid rows; nothing was imported."
ALL_DUPLICATES = "Every valid row is a duplicate and duplicates are skipped; nothing new to import."
GAVE_UP = "The import was interrupted {attempts} times (the worker stopped); it was given up. Upload the file again."
CRASHED = "The import failed unexpectedly; nothing was imported. The error was logged."
STOPPED = "Line {line}: {message}"
TIME_LIMIT = (
    "The import ran past its time limit of {limit} (FINETUNEDB_IMPORT_TIME_LIMIT_S) "
    "and was stopped{where}; nothing was imported. Split the file into smaller files and import "
    "them one at a time, or ask an admin to raise the limit."
)

DISK_FULL = "The server ran out of disk space while storing the upload; nothing was stored. Try again later or ask an admin to free space."
BROKER_DOWN = "The job queue is unreachable, so the import was not started and nothing was stored. Try again in a minute."

IMPORT_JOBS = JobKind(
    name="import job",
    model=ImportJob,
    enqueue="datasets_app.services.imports.import_job_enqueue",
    lease=LEASE,
    max_attempts=MAX_ATTEMPTS,
    gave_up=GAVE_UP.format(attempts=MAX_ATTEMPTS),
    recover="datasets_app.services.imports.import_jobs_recover",
)


def import_job_create(
    *,
    user,
    dataset: Dataset,
    upload,
    format: str = "auto",
    mode: str = ImportMode.STRICT,
    column_mapping: dict | None = None,
    skip_duplicates: bool = False,
    usage: StorageUsage | None = None,
) -> ImportJob:
    """Store an uploaded file under a generated name and queue its import.

    ``upload`` is a Django UploadedFile (or any object with ``name``, ``size`` and ``chunks()``,
    or ``temporary_file_path()``). ``usage``: the team's storage usage the caller measured
    before reading the body (``import_admission_check``), so it is not measured twice.
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
    if column_mapping is not None and (
        not isinstance(column_mapping, dict)
        or not all(isinstance(k, str) and isinstance(v, str) for k, v in column_mapping.items())
    ):
        errors.append({"path": "column_mapping", "message": BAD_MAPPING})
    if errors:
        raise ApplicationError("Invalid import options.", errors=errors)

    # Refused for a full slot cap or quota before a byte is copied into storage; the re-check
    # under the team lock below covers a concurrent upload, and the copy is removed if it says no.
    usage = import_admission_check(
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
            )
            transaction.on_commit(lambda: _enqueue_or_withdraw(job.pk))
    except Exception:
        storage.remove_quietly(target)
        raise
    return job


def _enqueue_or_withdraw(job_id: int) -> None:
    # Runs after the commit. With the broker down, a queued row nobody will ever be told about
    # would wait for the next worker restart: withdraw it (the caller removes the file) and
    # answer 503, so the client retries instead of polling a job that never starts.
    try:
        import_job_enqueue(job_id)
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


def import_job_enqueue(job_id: int) -> None:
    from ..tasks import import_job_run as task

    task.delay(job_id)


def _claim(job_id: int) -> int | None:
    return lease_claim(IMPORT_JOBS, pk=job_id, reset={"bytes_processed": 0, "rows_processed": 0})


def _mine(job_id: int, attempt: int):
    return lease_held(IMPORT_JOBS, pk=job_id, attempt=attempt)


def import_job_run(*, job_id: int) -> None:
    attempt = _claim(job_id)
    if attempt is None:
        return
    job = ImportJob.objects.select_related("dataset").get(pk=job_id)
    staging = storage.path_for(storage.STAGING, job.stored_name, ".jsonl")
    report = storage.path_for(storage.REPORTS, job.stored_name, ".errors.jsonl")
    try:
        counts = _parse_to_staging(job, attempt, staging, report)
        if counts is not None:
            _publish(job, attempt, staging, counts)
    except SoftTimeLimitExceeded:
        _mine(job_id, attempt).update(
            status=ImportStatus.FAILED, finished_at=timezone.now(), failure_reason=_time_limit(job)
        )
    except TeamStorageQuotaExceeded as exc:
        _mine(job_id, attempt).update(
            status=ImportStatus.FAILED, finished_at=timezone.now(), failure_reason=str(exc)
        )
    except Exception:
        logger.exception("import job %s crashed", job_id)
        _mine(job_id, attempt).update(
            status=ImportStatus.FAILED, finished_at=timezone.now(), failure_reason=CRASHED
        )
    finally:
        storage.remove_quietly(staging)


def _time_limit(job: ImportJob) -> str:
    seconds = int(settings.FINETUNEDB_TASK_TIME_LIMITS_S["import"])
    limit = f"{seconds} seconds" if seconds < 120 else f"{round(seconds / 60)} minutes"
    rows = ImportJob.objects.filter(pk=job.pk).values_list("rows_processed", flat=True).first()
    where = f" after {rows:,} rows" if rows else ""
    return TIME_LIMIT.format(limit=limit, where=where)


def import_job_fail_killed(*, job_id: int) -> None:
    """The worker killed the job's process at the hard time limit (the soft one could not stop
    it): fail the job with the same message instead of leaving it running for recovery to
    retry, and drop its staging file. Runs in the worker's main process."""
    job = ImportJob.objects.filter(pk=job_id, status=ImportStatus.RUNNING).first()
    if job is None:
        return
    ImportJob.objects.filter(pk=job_id, status=ImportStatus.RUNNING).update(
        status=ImportStatus.FAILED, finished_at=timezone.now(), failure_reason=_time_limit(job)
    )
    storage.remove_quietly(storage.path_for(storage.STAGING, job.stored_name, ".jsonl"))


def _parse_to_staging(job: ImportJob, attempt: int, staging, report) -> dict | None:
    existing = set(
        Example.objects.filter(dataset_id=job.dataset_id)
        .exclude(status=ExampleStatus.ARCHIVED)
        .values_list("content_hash", flat=True)
    )
    seen: set[str] = set()
    counts = {"rows": 0, "valid": 0, "invalid": 0, "dup_file": 0, "dup_dataset": 0, "staged": 0}
    first_errors: list[dict] = []
    last_progress = time.monotonic()

    with (
        open(storage.path_for(storage.UPLOADS, job.stored_name), "rb") as upload,
        open(staging, "wb") as out,
        open(report, "wb") as errors_out,
    ):
        reader = iter_rows(
            upload,
            format=job.requested_format,
            column_mapping=job.column_mapping,
            limits=import_limits(team_id=job.dataset.team_id),
        )
        detection = reader.detect()
        stopped = None
        for item in reader:
            counts["rows"] += 1
            if faults.PLAN is not None:
                faults.fault_point("import.after_rows", n=counts["rows"])
            if type(item) is ParsedRow:
                counts["valid"] += 1
                content = item.content
                chash = canonical.content_hash(content["messages"], content.get("tools"))
                duplicate = False
                if chash in seen:
                    counts["dup_file"] += 1
                    duplicate = True
                elif chash in existing:
                    counts["dup_dataset"] += 1
                    duplicate = True
                seen.add(chash)
                if duplicate and job.skip_duplicates:
                    continue
                out.write(orjson.dumps([content, item.source_format, chash]))
                out.write(b"\n")
                counts["staged"] += 1
            else:
                counts["invalid"] += 1
                errors_out.write(orjson.dumps(item.as_dict()))
                errors_out.write(b"\n")
                if len(first_errors) < FIRST_ERRORS:
                    first_errors.append(item.as_dict())
                if item.code in STOP_CODES:
                    # a cap on the whole file (size, quota, ratio, blank lines): nothing is kept
                    stopped = item
                    break
            if time.monotonic() - last_progress > PROGRESS_EVERY_S:
                last_progress = time.monotonic()
                still_mine = lease_renew(
                    IMPORT_JOBS,
                    pk=job.pk,
                    attempt=attempt,
                    bytes_processed=reader.bytes_read,
                    rows_processed=counts["rows"],
                )
                if not still_mine:
                    return None  # the lease was lost; whoever holds the job now finishes it
        bytes_read = reader.bytes_read
        out.flush()
        os.fsync(out.fileno())

    fields = dict(
        bytes_processed=bytes_read,
        rows_processed=counts["rows"],
        rows_valid=counts["valid"],
        rows_invalid=counts["invalid"],
        duplicates_in_file=counts["dup_file"],
        duplicates_in_dataset=counts["dup_dataset"],
        first_errors=first_errors,
        has_error_report=counts["invalid"] > 0,
        detected_format=detection.format or "",
        container=detection.container or "",
        compressed=detection.compressed,
    )
    failure = None
    if stopped is not None:
        failure = STOPPED.format(line=stopped.line, message=stopped.message)
    elif counts["invalid"] and job.mode == ImportMode.STRICT:
        failure = STRICT_FAILED.format(count=counts["invalid"])
    elif counts["valid"] == 0:
        failure = NO_VALID_ROWS
    elif counts["staged"] == 0:
        failure = ALL_DUPLICATES
    if failure:
        _mine(job.pk, attempt).update(
            status=ImportStatus.FAILED, finished_at=timezone.now(), failure_reason=failure, **fields
        )
        return None
    if not counts["invalid"]:
        storage.remove_quietly(report)
    lease_renew(IMPORT_JOBS, pk=job.pk, attempt=attempt, **fields)
    return counts


def _staged_rows(staging):
    with open(staging, "rb") as handle:
        for line in handle:
            content, source_format, chash = orjson.loads(line)
            yield content, source_format, chash


def _publish(job: ImportJob, attempt: int, staging, counts: dict) -> None:
    faults.fault_point("import.before_publish")
    with transaction.atomic():
        # Re-check ownership inside the publishing transaction: a worker that lost its lease
        # while parsing must not publish next to the one that took over.
        if not lease_held(IMPORT_JOBS, pk=job.pk, attempt=attempt, alive=True).exists():
            return
        created = examples_insert_new(
            dataset_id=job.dataset_id,
            user_id=job.created_by_id,
            rows=_staged_rows(staging),
            count=counts["staged"],
        )
        # raises (and so rolls back) when the rows, now measured, pass the team's quota
        import_publish_require_room(team_id=job.dataset.team_id)
        _mine(job.pk, attempt).update(
            status=ImportStatus.SUCCEEDED, examples_created=created, finished_at=timezone.now()
        )
        Dataset.objects.filter(pk=job.dataset_id).update(updated_at=timezone.now())
        # Enqueued on commit: the new rows are checked only once they are visible.
        dataset_checks_schedule(dataset_id=job.dataset_id)
        faults.fault_point("import.before_commit")


def import_jobs_recover() -> int:
    """Re-enqueue jobs a dead worker left behind (queued for a while, or running with an expired
    lease) and remove staging files of jobs no longer running. Called when a worker starts and
    once more a lease later (a worker restarted within a lease finds nothing expired at start).
    Returns how many jobs were re-enqueued."""
    count = lease_recover(IMPORT_JOBS)
    _sweep_staging()
    return count


def _sweep_staging() -> None:
    # A worker killed between the publish commit and its cleanup leaves the staging file behind.
    running = set(
        ImportJob.objects.filter(status=ImportStatus.RUNNING).values_list("stored_name", flat=True)
    )
    for path in storage.folder(storage.STAGING).glob("*.jsonl"):
        if path.name.removesuffix(".jsonl") not in running:
            storage.remove_quietly(path)
    # An upload saved inside a transaction that then rolled back has no job row; once it is
    # older than a lease (no transaction is still open around it) it is an orphan.
    cutoff = time.time() - LEASE.total_seconds()
    candidates = {
        p.name: p
        for p in storage.folder(storage.UPLOADS).iterdir()
        if p.is_file() and p.stat().st_mtime < cutoff
    }
    if candidates:
        known = set(
            ImportJob.objects.filter(stored_name__in=list(candidates)).values_list(
                "stored_name", flat=True
            )
        )
        for name, path in candidates.items():
            if name not in known:
                storage.remove_quietly(path)


def import_job_error_report_path(job: ImportJob):
    return storage.path_for(storage.REPORTS, job.stored_name, ".errors.jsonl")
