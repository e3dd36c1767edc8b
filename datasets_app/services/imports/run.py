"""Running an import: claim the job, stage the file's rows on disk, publish them all at once.

The job claims its row through the lease module (queued → running, or a running job whose lease
expired), reads the file into a staging file with :func:`.stage.stage_rows` while renewing the
lease with its progress, and publishes every staged row together with the final status in ONE
transaction. A worker killed at any point leaves nothing visible; the retried job starts over
and cannot insert twice because a published job is no longer claimable.
"""

from __future__ import annotations

import logging
import os

import orjson
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from finetunedb import faults
from finetunedb.events import event_emit
from finetunedb.exceptions import TeamStorageQuotaExceeded
from finetunedb.leases import lease_claim, lease_held, lease_renew
from finetunedb.storage import StoredFileMissing

from ... import storage
from ...formats import iter_rows
from ...models import Dataset, Example, ExampleStatus, ImportJob, ImportMode, ImportStatus
from ..checks import dataset_checks_schedule
from ..example_rows import examples_insert_new
from . import admission, stored
from .jobs import IMPORT_JOBS, import_job_error_report_path, import_job_staging_path
from .stage import Staged, stage_rows, stage_verdict

logger = logging.getLogger(__name__)

CRASHED = "The import failed unexpectedly; nothing was imported. The error was logged."
TIME_LIMIT = (
    "The import ran past its time limit of {limit} (FINETUNEDB_IMPORT_TIME_LIMIT_S) "
    "and was stopped{where}; nothing was imported. Split the file into smaller files and import "
    "them one at a time, or ask an admin to raise the limit."
)


def _claim(job_id: int) -> int | None:
    return lease_claim(IMPORT_JOBS, pk=job_id, reset={"bytes_processed": 0, "rows_processed": 0})


def _mine(job_id: int, attempt: int):
    return lease_held(IMPORT_JOBS, pk=job_id, attempt=attempt)


def import_job_run(*, job_id: int) -> None:
    attempt = _claim(job_id)
    if attempt is None:
        return
    job = ImportJob.objects.select_related("dataset").get(pk=job_id)
    staging = import_job_staging_path(job)
    report = import_job_error_report_path(job)
    try:
        staged = _parse_to_staging(job, attempt, staging, report)
        if staged is not None:
            _publish(job, attempt, staging, staged)
    except SoftTimeLimitExceeded:
        _fail(job_id, attempt, _time_limit(job))
    except TeamStorageQuotaExceeded as exc:
        _fail(job_id, attempt, str(exc))
    except StoredFileMissing:
        _fail(job_id, attempt, stored.UPLOAD_GONE)
    except Exception:
        logger.exception("import job %s crashed", job_id)
        _fail(job_id, attempt, CRASHED)
    finally:
        storage.remove_quietly(staging)
        stored.import_job_local_copies_drop(job)


def _fail(job_id: int, attempt: int, reason: str, **fields) -> None:
    if _mine(job_id, attempt).update(
        status=ImportStatus.FAILED, finished_at=timezone.now(), failure_reason=reason, **fields
    ):
        import_job_announce(job_id=job_id)


def import_job_announce(*, job_id: int) -> None:
    """``import.finished`` / ``import.failed`` for the job's team, sent once the caller's
    transaction commits (finetunedb/events.py; docs/webhooks.md has the payload)."""
    job = ImportJob.objects.select_related("dataset").get(pk=job_id)
    succeeded = job.status == ImportStatus.SUCCEEDED
    event_emit(
        team_id=job.dataset.team_id,
        type="import.finished" if succeeded else "import.failed",
        data={
            "import": {
                "id": job.pk,
                "status": job.status,
                "examples_created": job.examples_created,
                "rows_invalid": job.rows_invalid,
                "failure_reason": job.failure_reason,
                "url": f"/api/v1/imports/{job.pk}/",
            },
            "dataset": {"id": job.dataset_id, "name": job.dataset.name},
        },
    )


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
    if ImportJob.objects.filter(pk=job_id, status=ImportStatus.RUNNING).update(
        status=ImportStatus.FAILED, finished_at=timezone.now(), failure_reason=_time_limit(job)
    ):
        import_job_announce(job_id=job_id)
    storage.remove_quietly(import_job_staging_path(job))
    stored.import_job_local_copies_drop(job)


def _after_row(n: int) -> None:
    faults.fault_point("import.after_rows", n=n)


def _parse_to_staging(job: ImportJob, attempt: int, staging, report) -> Staged | None:
    existing = set(
        Example.objects.filter(dataset_id=job.dataset_id)
        .exclude(status=ExampleStatus.ARCHIVED)
        .values_list("content_hash", flat=True)
    )
    with (
        stored.upload_open(job) as upload,
        open(staging, "wb") as out,
        open(report, "wb") as errors_out,
    ):
        reader = iter_rows(
            upload,
            format=job.requested_format,
            column_mapping=job.column_mapping,
            limits=admission.import_limits(team_id=job.dataset.team_id),
        )
        detection = reader.detect()

        def keep_going(rows: int) -> bool:
            return lease_renew(
                IMPORT_JOBS,
                pk=job.pk,
                attempt=attempt,
                bytes_processed=reader.bytes_read,
                rows_processed=rows,
            )

        staged = stage_rows(
            reader,
            existing=existing,
            skip_duplicates=job.skip_duplicates,
            staged=out,
            errors=errors_out,
            keep_going=keep_going,
            on_row=_after_row if faults.PLAN is not None else None,
        )
        if staged.lost:
            return None  # the lease was lost; whoever holds the job now finishes it
        bytes_read = reader.bytes_read
        out.flush()
        os.fsync(out.fileno())

    fields = dict(
        bytes_processed=bytes_read,
        rows_processed=staged.rows,
        rows_valid=staged.valid,
        rows_invalid=staged.invalid,
        duplicates_in_file=staged.dup_file,
        duplicates_in_dataset=staged.dup_dataset,
        first_errors=staged.first_errors,
        has_error_report=staged.invalid > 0,
        report_bytes=report.stat().st_size if staged.invalid else None,
        detected_format=detection.format or "",
        container=detection.container or "",
        compressed=detection.compressed,
    )
    if staged.invalid:
        stored.report_store(job, report)  # before the status changes, so the web can serve it
    failure = stage_verdict(staged, strict=job.mode == ImportMode.STRICT)
    if failure:
        _fail(job.pk, attempt, failure, **fields)
        return None
    if not staged.invalid:
        storage.remove_quietly(report)
    lease_renew(IMPORT_JOBS, pk=job.pk, attempt=attempt, **fields)
    return staged


def _staged_rows(staging):
    with open(staging, "rb") as handle:
        for line in handle:
            content, source_format, chash = orjson.loads(line)
            yield content, source_format, chash


def _publish(job: ImportJob, attempt: int, staging, staged: Staged) -> None:
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
            count=staged.staged,
            status=job.initial_status,
        )
        # raises (and so rolls back) when the rows, now measured, pass the team's quota
        admission.import_publish_require_room(team_id=job.dataset.team_id)
        _mine(job.pk, attempt).update(
            status=ImportStatus.SUCCEEDED, examples_created=created, finished_at=timezone.now()
        )
        Dataset.objects.filter(pk=job.dataset_id).update(updated_at=timezone.now())
        import_job_announce(job_id=job.pk)
        # Enqueued on commit: the new rows are checked only once they are visible.
        dataset_checks_schedule(dataset_id=job.dataset_id)
        faults.fault_point("import.before_commit")
