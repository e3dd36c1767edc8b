"""What every step of an import shares: the job kind the lease module claims, renews and
recovers, and where a job's files live."""

from __future__ import annotations

from datetime import timedelta

from finetunedb.leases import JobKind

from ... import storage
from ...models import ImportJob

LEASE = timedelta(seconds=60)
MAX_ATTEMPTS = 3

GAVE_UP = "The import was interrupted {attempts} times (the worker stopped); it was given up. Upload the file again."

IMPORT_JOBS = JobKind(
    name="import job",
    model=ImportJob,
    enqueue="datasets_app.services.imports.jobs.import_job_enqueue",
    lease=LEASE,
    max_attempts=MAX_ATTEMPTS,
    gave_up=GAVE_UP.format(attempts=MAX_ATTEMPTS),
    recover="datasets_app.services.imports.recover.import_jobs_recover",
    team="dataset__team_id",  # in turns between teams (finetunedb.leases.job_run_next)
)


def import_job_enqueue(job_id: int) -> None:
    from ...tasks import import_job_run as task

    task.delay(job_id)


def import_job_staging_path(job: ImportJob):
    return storage.path_for(storage.STAGING, job.stored_name, ".jsonl")


def import_job_error_report_path(job: ImportJob):
    return storage.path_for(storage.REPORTS, job.stored_name, ".errors.jsonl")
