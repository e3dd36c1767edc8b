from celery import shared_task

from finetunedb import storage_cleanup as storage_cleanup_module

from . import invitations


@shared_task(name="teams.invitation_email_send", ignore_result=True)
def invitation_email_send(invitation_id: int) -> None:
    invitations.invitation_email_send(invitation_id=invitation_id)


# Hourly by CELERY_BEAT_SCHEDULE; without a beat, cron `manage.py storage_cleanup`.
@shared_task(name="storage.storage_cleanup", ignore_result=True)
def storage_cleanup() -> None:
    storage_cleanup_module.storage_cleanup()
