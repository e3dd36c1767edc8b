"""Celery tasks: receive an id, call one service."""

from celery import Task, shared_task
from celery.exceptions import TimeLimitExceeded

from finetunedb.celery import task_time_limits

from .services import imports


class ImportTask(Task):
    def on_failure(self, exc, task_id, args, kwargs, einfo):
        # Called in the worker's main process when the hard time limit killed the child.
        if isinstance(exc, TimeLimitExceeded):
            job_id = args[0] if args else kwargs.get("job_id")
            imports.import_job_fail_killed(job_id=job_id)


@shared_task(
    base=ImportTask,
    name="datasets_app.import_job_run",
    acks_late=True,
    ignore_result=True,
    **task_time_limits("import"),
)
def import_job_run(job_id: int) -> None:
    imports.import_job_run(job_id=job_id)


@shared_task(
    name="datasets_app.dataset_checks_run",
    acks_late=True,
    ignore_result=True,
    **task_time_limits("checks"),
)
def dataset_checks_run(dataset_id: int) -> None:
    from .services.checks import dataset_checks_run as run

    run(dataset_id=dataset_id)


@shared_task(
    name="datasets_app.dedup_job_run",
    acks_late=True,
    ignore_result=True,
    **task_time_limits("dedup"),
)
def dedup_job_run(job_id: int) -> None:
    from .services.dedup import dedup_job_run as run

    run(job_id=job_id)
