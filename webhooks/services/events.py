"""Events become deliveries: the sink registered with ``finetunedb.events`` (apps.py)."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from finetunedb.teams.permissions import Action
from finetunedb.teams.scoping import require_role

from .. import signing
from ..models import WebhookDelivery, WebhookEndpoint, WebhookEvent
from .deliveries import webhook_delivery_enqueue

TEST_EVENT = "webhook.test"  # the "send a ping" button's event; sent to one endpoint only


def _record(*, team_id: int, type: str, timestamp: str, data: dict, endpoints) -> WebhookEvent:  # noqa: A002
    now = timezone.now()
    with transaction.atomic():
        event = WebhookEvent.objects.create(
            team_id=team_id,
            message_id=signing.message_id_new(),
            type=type,
            payload={"type": type, "timestamp": timestamp, "data": data},
        )
        deliveries = WebhookDelivery.objects.bulk_create(
            WebhookDelivery(endpoint=endpoint, event=event, next_try_at=now)
            for endpoint in endpoints
        )
        for delivery in deliveries:
            transaction.on_commit(lambda pk=delivery.pk: webhook_delivery_enqueue(pk))
    return event


def webhook_event_record(team_id: int, type: str, timestamp: str, data: dict) -> None:  # noqa: A002
    """Store the event and one delivery per active endpoint of the team that wants it; an
    event no endpoint listens to is not stored."""
    endpoints = [
        endpoint
        for endpoint in WebhookEndpoint.objects.filter(team_id=team_id, active=True)
        if type in endpoint.events
    ]
    if endpoints:
        _record(team_id=team_id, type=type, timestamp=timestamp, data=data, endpoints=endpoints)


def webhook_endpoint_ping(*, user, endpoint: WebhookEndpoint) -> WebhookDelivery:
    """Send a ``webhook.test`` event to ``endpoint`` alone (the page's "send a ping")."""
    require_role(user, endpoint.team_id, Action.MANAGE_MEMBERS)
    timestamp = timezone.now().isoformat().replace("+00:00", "Z")
    data = {"endpoint": {"id": endpoint.pk, "url": endpoint.url}, "by": user.get_username()}
    event = _record(
        team_id=endpoint.team_id,
        type=TEST_EVENT,
        timestamp=timestamp,
        data=data,
        endpoints=[endpoint],
    )
    return WebhookDelivery.objects.get(event=event, endpoint=endpoint)
