"""Celery tasks of the evaluation app. Named ``training.*`` so CELERY_TASK_ROUTES sends them to
the ``training`` queue: the worker that loads models, never the web process."""

from celery import shared_task

from finetunedb.celery import task_time_limits

from .services import execute


@shared_task(
    name="training.eval_run_execute",
    acks_late=True,
    ignore_result=True,
    **task_time_limits("evaluation"),
)
def eval_run_execute(run_id: int) -> None:
    execute.eval_run_execute(run_id=run_id)
