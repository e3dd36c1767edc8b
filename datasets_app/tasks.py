"""Celery tasks: receive an id, call one service.

Imports and dedup jobs are run in turns between teams: their task is a token sent once per job,
and it runs the next job in the fair order (``finetunedb.leases.job_run_next``), which is the
job that sent it unless another team's job has waited longer.
"""

from celery import Task, shared_task
from celery.exceptions import TimeLimitExceeded
from django.core.cache import cache

from finetunedb.celery import task_time_limits
from finetunedb.leases import job_run_next

from .services import imports

# Which job a token ran, for its worker's main process: the job that sent the token may be
# another one (it runs in turn) or still queued.
RAN_KEY = "datasets_app.token-ran:{task_id}"


class ImportTask(Task):
    def on_failure(self, exc, task_id, args, kwargs, einfo):
        # Called in the worker's main process when the hard time limit killed the child.
        if isinstance(exc, TimeLimitExceeded):
            sent_for = args[0] if args else kwargs.get("job_id")
            ran = cache.get(RAN_KEY.format(task_id=task_id))
            imports.import_job_fail_killed(job_id=ran if ran is not None else sent_for)


@shared_task(
    base=ImportTask,
    bind=True,
    name="datasets_app.import_job_run",
    acks_late=True,
    ignore_result=True,
    **task_time_limits("import"),
)
def import_job_run(self, job_id: int) -> None:
    key = RAN_KEY.format(task_id=self.request.id)
    limit = (self.time_limit or 0) + 60

    def run(pk: int) -> None:
        cache.set(key, pk, timeout=limit)
        imports.import_job_run(job_id=pk)

    job_run_next(imports.IMPORT_JOBS, run=run)
    cache.delete(key)


@shared_task(
    name="datasets_app.dataset_checks_run",
    acks_late=True,
    ignore_result=True,
    **task_time_limits("checks"),
)
def dataset_checks_run(dataset_id: int, full: bool = False) -> None:
    from .services.checks import dataset_checks_run as run

    run(dataset_id=dataset_id, full=full)


@shared_task(
    name="datasets_app.dedup_job_run",
    acks_late=True,
    ignore_result=True,
    **task_time_limits("dedup"),
)
def dedup_job_run(job_id: int) -> None:
    from .services.dedup import dedup_job_run as run
    from .services.dedup.jobs import DEDUP_JOBS

    job_run_next(DEDUP_JOBS, run=lambda pk: run(job_id=pk))
