"""Celery tasks of the ``training`` queue (CELERY_TASK_ROUTES sends ``training.*`` there)."""

from celery import shared_task

from finetunedb.celery import task_time_limits

from .process_limits import training_process_limits_apply
from .services import evaluation, execute


@shared_task(
    bind=True,
    name="training.training_run_execute",
    acks_late=True,
    ignore_result=True,
    **task_time_limits("training"),
)
def training_run_execute(self, run_id: int) -> None:
    _yield_the_cpu(self)
    execute.training_run_execute(run_id=run_id)


@shared_task(
    bind=True,
    name="training.model_evaluate",
    acks_late=True,
    ignore_result=True,
    **task_time_limits("evaluation"),
)
def model_evaluate(self, model_id: int) -> None:
    _yield_the_cpu(self)
    evaluation.model_evaluate(model_id=model_id)


@shared_task(
    bind=True,
    name="training.playground_request_run",
    acks_late=True,
    ignore_result=True,
    **task_time_limits("playground"),
)
def playground_request_run(self, request_id: int) -> None:
    _yield_the_cpu(self)
    evaluation.playground_request_run(request_id=request_id)


def _yield_the_cpu(task) -> None:
    # Only in a worker: a task run eagerly runs in its caller (a test, a management command),
    # whose priority and threads are not the training worker's to change.
    if not task.request.is_eager:
        training_process_limits_apply()
