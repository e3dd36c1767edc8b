from celery import shared_task

from . import invitations


@shared_task(name="teams.invitation_email_send", ignore_result=True)
def invitation_email_send(invitation_id: int) -> None:
    invitations.invitation_email_send(invitation_id=invitation_id)
