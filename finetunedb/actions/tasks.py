"""Celery task: receive an id, call one service."""

from celery import shared_task

from finetunedb.celery import task_time_limits


@shared_task(
    name="finetunedb.actions.action_job_run",
    acks_late=True,
    ignore_result=True,
    # the checks limit (30 min): a freeze, split or preview of a large dataset takes seconds
    **task_time_limits("checks"),
)
def action_job_run(job_id: int) -> None:
    # A token (finetunedb.leases fair scheduling): it runs the next action job, whichever team's
    # turn it is; ``job_id`` is the job that sent it.
    from .services import action_job_run_next

    action_job_run_next()
