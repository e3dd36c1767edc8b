"""Celery tasks of the capture app (the default queue)."""

from celery import shared_task

from .services import rules


@shared_task(name="capture.capture_rules_apply", acks_late=True, ignore_result=True)
def capture_rules_apply(team_id: int, log_ids: list[int]) -> None:
    rules.capture_rules_apply(team_id=team_id, log_ids=log_ids)
