"""Deliveries end to end: a real freeze reaches a loopback receiver signed; failures are retried
on the backoff schedule (time injected); redeliver, the sweep, paused endpoints."""

from __future__ import annotations

import json
import random
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.webhooks.test_signing import spec_verify
from webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEvent
from webhooks.services import deliveries
from webhooks.services.endpoints import webhook_endpoint_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def endpoint_for(owner, team, private_allowed):
    def make(url, events=("version.frozen",)):
        endpoint, secret = webhook_endpoint_create(
            user=owner, team=team, url=url, events=list(events)
        )
        return endpoint, secret

    return make


def freeze(owner, dataset, django_capture_on_commit_callbacks):
    from datasets_app.services.versions import dataset_version_freeze

    with django_capture_on_commit_callbacks(execute=True):
        return dataset_version_freeze(user=owner, dataset=dataset, name="release")


def test_it_delivers_a_signed_version_frozen_event_after_a_real_freeze(
    owner, dataset, example, receiver, endpoint_for, django_capture_on_commit_callbacks
):
    endpoint, secret = endpoint_for(receiver.url)
    version = freeze(owner, dataset, django_capture_on_commit_callbacks)

    [request] = receiver.requests
    headers = {k.lower(): v for k, v in request["headers"].items()}
    assert spec_verify(secret, headers, request["body"])
    assert abs(int(headers["webhook-timestamp"]) - timezone.now().timestamp()) < 60
    body = json.loads(request["body"])
    assert body["type"] == "version.frozen"
    assert body["data"]["version"]["id"] == version.pk
    assert body["data"]["version"]["content_hash"] == version.content_hash
    assert body["data"]["dataset"] == {"id": dataset.pk, "name": "support-chats"}
    delivery = WebhookDelivery.objects.get(endpoint=endpoint)
    assert delivery.status == "delivered"
    assert delivery.event.message_id == headers["webhook-id"]
    assert WebhookAttempt.objects.get(delivery=delivery).status_code == 200


def test_it_sends_nothing_for_a_freeze_that_rolled_back(
    owner, dataset, receiver, endpoint_for, django_capture_on_commit_callbacks
):
    from finetunedb.exceptions import ApplicationError

    endpoint_for(receiver.url)
    with pytest.raises(ApplicationError):  # an empty dataset cannot be frozen
        freeze(owner, dataset, django_capture_on_commit_callbacks)
    assert receiver.requests == []
    assert not WebhookEvent.objects.exists()


def test_it_sends_only_the_events_an_endpoint_asked_for(
    owner, dataset, example, receiver, endpoint_for, django_capture_on_commit_callbacks
):
    endpoint_for(receiver.url, events=["import.finished"])
    freeze(owner, dataset, django_capture_on_commit_callbacks)
    assert receiver.requests == []


def test_it_retries_a_failing_receiver_with_backoff_then_gives_up(
    owner, dataset, example, receiver, endpoint_for, django_capture_on_commit_callbacks
):
    receiver.status, receiver.body = 500, b"boom " * 200
    endpoint, secret = endpoint_for(receiver.url)
    freeze(owner, dataset, django_capture_on_commit_callbacks)  # try 1, at once
    delivery = WebhookDelivery.objects.get(endpoint=endpoint)
    rng = random.Random(7)
    waits = []
    sent_at = delivery.updated_at  # the first try ran in the freeze's on_commit, at real time
    for step in deliveries.BACKOFF:
        delivery.refresh_from_db()
        assert delivery.status == "pending"
        wait = (delivery.next_try_at - sent_at).total_seconds()
        waits.append(wait)
        assert step * 0.9 - 1 <= wait <= step * 1.1 + 1
        early = delivery.next_try_at - timedelta(seconds=1)
        assert deliveries.webhook_delivery_send(delivery_id=delivery.pk, now=early) == "skipped"
        with django_capture_on_commit_callbacks(execute=False):
            outcome = deliveries.webhook_delivery_send(
                delivery_id=delivery.pk, now=delivery.next_try_at, rng=rng
            )
        sent_at = delivery.next_try_at
    assert outcome == "failed"
    delivery.refresh_from_db()
    assert (delivery.status, delivery.tries, delivery.last_status_code) == ("failed", 7, 500)
    assert len(receiver.requests) == 7
    assert len({r["headers"]["webhook-id"] for r in receiver.requests}) == 1
    log = list(WebhookAttempt.objects.filter(delivery=delivery).order_by("number"))
    assert [a.number for a in log] == [1, 2, 3, 4, 5, 6, 7]
    assert all(a.status_code == 500 and len(a.response_head) == 300 for a in log)
    assert waits == sorted(waits)  # exponential: each wait longer than the one before

    # Redeliver: a fresh schedule, the same webhook-id, logged as a redelivery.
    receiver.status = 204
    with django_capture_on_commit_callbacks(execute=True):
        deliveries.webhook_delivery_redeliver(user=owner, delivery=delivery)
    delivery.refresh_from_db()
    assert delivery.status == "delivered"
    last = WebhookAttempt.objects.filter(delivery=delivery).order_by("-number").first()
    assert (last.number, last.status_code, last.manual) == (8, 204, True)
    assert (
        receiver.requests[-1]["headers"]["webhook-id"]
        == receiver.requests[0]["headers"]["webhook-id"]
    )


def test_it_logs_a_refused_connection_and_retries(
    owner, dataset, example, endpoint_for, django_capture_on_commit_callbacks
):
    import socket

    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens there
    endpoint, _ = endpoint_for(f"http://127.0.0.1:{port}/")
    freeze(owner, dataset, django_capture_on_commit_callbacks)
    delivery = WebhookDelivery.objects.get(endpoint=endpoint)
    assert delivery.status == "pending" and delivery.tries == 1
    attempt = WebhookAttempt.objects.get(delivery=delivery)
    assert attempt.status_code is None and "refused" in attempt.error.lower()


def test_it_checks_the_address_again_when_it_delivers(
    owner, dataset, example, receiver, endpoint_for, settings, django_capture_on_commit_callbacks
):
    endpoint, _ = endpoint_for(receiver.url)
    settings.FINETUNEDB_WEBHOOKS_ALLOW_PRIVATE = False  # the rule changed after creation
    freeze(owner, dataset, django_capture_on_commit_callbacks)
    assert receiver.requests == []
    attempt = WebhookAttempt.objects.get(delivery__endpoint=endpoint)
    assert "loopback" in attempt.error


def test_it_sends_a_due_delivery_whose_task_was_lost(
    owner, dataset, example, receiver, endpoint_for
):
    from datasets_app.services.versions import dataset_version_freeze

    endpoint, _ = endpoint_for(receiver.url)
    dataset_version_freeze(user=owner, dataset=dataset, name="v1")  # on_commit never runs here
    from finetunedb.events import event_sinks_registered

    assert event_sinks_registered()
    assert receiver.requests == []
    # the event itself was lost with the transaction's callbacks; a delivery whose task was lost:
    from webhooks.services.events import webhook_event_record

    webhook_event_record(endpoint.team_id, "version.frozen", "2026-12-07T00:00:00Z", {"x": 1})
    assert WebhookDelivery.objects.get(endpoint=endpoint).status == "pending"
    assert deliveries.webhook_deliveries_due_send() == 1
    assert WebhookDelivery.objects.get(endpoint=endpoint).status == "delivered"
    assert json.loads(receiver.requests[0]["body"])["data"] == {"x": 1}


def test_it_does_not_send_to_a_paused_endpoint(
    owner, dataset, example, receiver, endpoint_for, django_capture_on_commit_callbacks
):
    from webhooks.services.endpoints import webhook_endpoint_set_active

    endpoint, _ = endpoint_for(receiver.url)
    webhook_endpoint_set_active(user=owner, endpoint=endpoint, active=False)
    freeze(owner, dataset, django_capture_on_commit_callbacks)
    assert receiver.requests == []
    assert not WebhookDelivery.objects.exists()
