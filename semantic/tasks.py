"""Celery tasks of the semantic app. Named ``training.*`` so CELERY_TASK_ROUTES sends them to
the ``training`` queue: the worker that loads models (and has the GPU), never the web process.

The task is a token sent once per job: it runs the next embedding job in turns between teams
(``finetunedb.leases.job_run_next``), not necessarily the one that sent it.
"""

from celery import shared_task

from finetunedb.celery import task_time_limits
from finetunedb.leases import job_run_next


@shared_task(
    name="training.embedding_job_run",
    acks_late=True,
    ignore_result=True,
    **task_time_limits("evaluation"),
)
def embedding_job_run(job_id: int) -> None:
    from .services.jobs import EMBEDDING_JOBS
    from .services.jobs import embedding_job_run as run

    job_run_next(EMBEDDING_JOBS, run=lambda pk: run(job_id=pk))
