"""Celery tasks: receive an id, call one service."""

from celery import shared_task
from celery.signals import worker_ready

from .services import imports


@shared_task(name="datasets_app.import_job_run", acks_late=True, ignore_result=True)
def import_job_run(job_id: int) -> None:
    imports.import_job_run(job_id=job_id)


@worker_ready.connect
def recover_interrupted_jobs(**_):
    imports.import_jobs_recover()
