"""Celery tasks of the capture app (the default queue)."""

from celery import shared_task

from .services import retention, rules


@shared_task(name="capture.capture_rules_apply", acks_late=True, ignore_result=True)
def capture_rules_apply(team_id: int, log_ids: list[int]) -> None:
    rules.capture_rules_apply(team_id=team_id, log_ids=log_ids)


# Scheduled hourly by CELERY_BEAT_SCHEDULE (the beat runs inside the one default worker of
# `make run`); deployments without a beat run `manage.py delete_old_logs` from cron instead.
@shared_task(name="capture.logs_retention_apply", ignore_result=True)
def logs_retention_apply() -> None:
    retention.logs_retention_apply()
