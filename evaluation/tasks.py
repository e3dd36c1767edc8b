"""Celery tasks of the evaluation app. Named ``training.*`` so CELERY_TASK_ROUTES sends them to
the ``training`` queue: the worker that loads models, never the web process.

Each task is a token sent once per job (an eval run, a judged comparison): it runs the next job
of its kind in turns between teams (``finetunedb.leases.job_run_next``), not necessarily the one
that sent it.
"""

from celery import shared_task

from finetunedb.celery import task_time_limits
from finetunedb.leases import job_run_next

from .services import execute, judging
from .services.jobs import EVAL_RUNS, JUDGED_COMPARISONS


@shared_task(
    name="training.eval_run_execute",
    acks_late=True,
    ignore_result=True,
    **task_time_limits("evaluation"),
)
def eval_run_execute(run_id: int) -> None:
    job_run_next(EVAL_RUNS, run=lambda pk: execute.eval_run_execute(run_id=pk))


@shared_task(
    name="training.judged_comparison_execute",
    acks_late=True,
    ignore_result=True,
    **task_time_limits("evaluation"),
)
def judged_comparison_execute(comparison_id: int) -> None:
    job_run_next(
        JUDGED_COMPARISONS, run=lambda pk: judging.judged_comparison_execute(comparison_id=pk)
    )
