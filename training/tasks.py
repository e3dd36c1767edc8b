"""Celery tasks of the ``training`` queue (CELERY_TASK_ROUTES sends ``training.*`` there)."""

from celery import shared_task

from finetunedb.celery import task_time_limits

from .services import evaluation, execute


@shared_task(
    name="training.training_run_execute",
    acks_late=True,
    ignore_result=True,
    **task_time_limits("training"),
)
def training_run_execute(run_id: int) -> None:
    execute.training_run_execute(run_id=run_id)


@shared_task(
    name="training.model_evaluate",
    acks_late=True,
    ignore_result=True,
    **task_time_limits("evaluation"),
)
def model_evaluate(model_id: int) -> None:
    evaluation.model_evaluate(model_id=model_id)


@shared_task(
    name="training.playground_request_run",
    acks_late=True,
    ignore_result=True,
    **task_time_limits("playground"),
)
def playground_request_run(request_id: int) -> None:
    evaluation.playground_request_run(request_id=request_id)
