"""Celery tasks of the webhooks app (the default queue). A try is bounded by the client's own
timeouts (webhooks/guard.py, about 10 s); the limits only catch a worker stuck past that."""

from celery import shared_task

from .services import deliveries

LIMITS = {"soft_time_limit": 60, "time_limit": 120}


@shared_task(name="webhooks.webhook_delivery_send", acks_late=True, ignore_result=True, **LIMITS)
def webhook_delivery_send(delivery_id: int) -> None:
    deliveries.webhook_delivery_send(delivery_id=delivery_id)


@shared_task(name="webhooks.webhook_deliveries_due_send", ignore_result=True, **LIMITS)
def webhook_deliveries_due_send() -> None:
    deliveries.webhook_deliveries_due_send()
