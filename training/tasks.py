"""Celery tasks of the ``training`` queue (CELERY_TASK_ROUTES sends ``training.*`` there).

Each task is a token sent once per job: it runs the next job of its kind in turns between teams
(``finetunedb.leases.job_run_next``), which is the job that sent it unless another team's job of
that kind has waited longer. So one team's ten queued runs do not hold up another team's one.
"""

from celery import shared_task

from finetunedb.celery import task_time_limits
from finetunedb.leases import job_run_next

from .process_limits import training_process_limits_apply
from .services import evaluation, execute
from .services.jobs import EVALUATIONS, PLAYGROUND_REQUESTS, TRAINING_RUNS


@shared_task(
    bind=True,
    name="training.training_run_execute",
    acks_late=True,
    ignore_result=True,
    **task_time_limits("training"),
)
def training_run_execute(self, run_id: int) -> None:
    _yield_the_cpu(self)
    job_run_next(TRAINING_RUNS, run=lambda pk: execute.training_run_execute(run_id=pk))


@shared_task(
    bind=True,
    name="training.model_evaluate",
    acks_late=True,
    ignore_result=True,
    **task_time_limits("evaluation"),
)
def model_evaluate(self, model_id: int) -> None:
    _yield_the_cpu(self)
    job_run_next(EVALUATIONS, run=lambda pk: evaluation.model_evaluate(model_id=pk))


@shared_task(
    bind=True,
    name="training.playground_request_run",
    acks_late=True,
    ignore_result=True,
    **task_time_limits("playground"),
)
def playground_request_run(self, request_id: int) -> None:
    _yield_the_cpu(self)
    job_run_next(
        PLAYGROUND_REQUESTS, run=lambda pk: evaluation.playground_request_run(request_id=pk)
    )


def _yield_the_cpu(task) -> None:
    # Only in a worker: a task run eagerly runs in its caller (a test, a management command),
    # whose priority and threads are not the training worker's to change.
    if not task.request.is_eager:
        training_process_limits_apply()
