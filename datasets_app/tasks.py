"""Celery tasks: receive an id, call one service."""

from celery import shared_task

from .services import imports


@shared_task(name="datasets_app.import_job_run", acks_late=True, ignore_result=True)
def import_job_run(job_id: int) -> None:
    imports.import_job_run(job_id=job_id)


@shared_task(name="datasets_app.dataset_checks_run", acks_late=True, ignore_result=True)
def dataset_checks_run(dataset_id: int) -> None:
    from .services.checks import dataset_checks_run as run

    run(dataset_id=dataset_id)


@shared_task(name="datasets_app.dedup_job_run", acks_late=True, ignore_result=True)
def dedup_job_run(job_id: int) -> None:
    from .services.dedup import dedup_job_run as run

    run(job_id=job_id)
