"""Sending a delivery: one signed POST per try, on a backoff schedule, every try logged.

A try is claimed with one conditional UPDATE of ``next_try_at`` (pending and due → due again
after ``CLAIM``), so a task that arrives twice, or early, sends nothing; a worker that dies in a
try leaves the delivery due after ``CLAIM`` and the minute sweep (``webhook_deliveries_due_send``,
scheduled by the beat) sends it again. This is not a ``finetunedb.leases`` job kind: a delivery
has no running state, its retries are a schedule of hours, not three interruptions, and one try
is a bounded 10-second exchange (docs/webhooks.md).
"""

from __future__ import annotations

import json
import random
import time
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from finetunedb.teams.permissions import Action
from finetunedb.teams.scoping import require_role

from .. import guard, signing
from ..models import DeliveryStatus, WebhookAttempt, WebhookDelivery
from .endpoints import allow_private

# Seconds before the 2nd, 3rd, … try (Standard Webhooks' schedule): 7 tries over ~17.6 hours.
BACKOFF = (5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600)
JITTER = 0.1  # each wait is drawn from ±10 % of its step, so failing endpoints don't sync up
CLAIM = timedelta(seconds=60)  # longer than one try can take (guard.TOTAL_TIMEOUT)
SWEEP_LIMIT = 500
HEAD = 300
PAUSED = "The endpoint is paused; redeliver once it is active again."


def webhook_delivery_enqueue(delivery_id: int, *, countdown: float = 0) -> None:
    from ..tasks import webhook_delivery_send as task

    task.apply_async(args=[delivery_id], countdown=max(0, countdown))


def backoff_delay(tries: int, *, rng: random.Random | None = None) -> float | None:
    """Seconds to wait after the ``tries``-th failed try, or None when the schedule is over."""
    if tries > len(BACKOFF):
        return None
    step = BACKOFF[tries - 1]
    return step * (rng or random).uniform(1 - JITTER, 1 + JITTER)


def body_bytes(payload: dict) -> bytes:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _try(delivery: WebhookDelivery, now) -> tuple[int | None, bytes, str, int]:
    """One POST: (status code or None, first bytes, error text, duration in ms)."""
    endpoint, event = delivery.endpoint, delivery.event
    started = time.monotonic()
    if not endpoint.active:
        return None, b"", PAUSED, 0
    try:
        target = guard.url_resolve(endpoint.url, allow_private=allow_private())
        body = body_bytes(event.payload)
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "FinetuneDB-Webhooks/1",
            **signing.headers(
                endpoint.secret,
                message_id=event.message_id,
                timestamp=int(now.timestamp()),
                body=body,
            ),
        }
        answer = guard.post(target, body, headers)
    except guard.UnsafeUrl as error:
        return None, b"", str(error), 0
    except (OSError, ValueError) as error:
        text = str(error) or error.__class__.__name__
        return None, b"", text, int((time.monotonic() - started) * 1000)
    return answer.status, answer.head, "", int((time.monotonic() - started) * 1000)


def webhook_delivery_send(*, delivery_id: int, now=None, rng: random.Random | None = None) -> str:
    """Make the due try of one delivery; "delivered", "retrying", "failed" or "skipped"."""
    now = now or timezone.now()
    claimed = WebhookDelivery.objects.filter(
        pk=delivery_id, status=DeliveryStatus.PENDING, next_try_at__lte=now
    ).update(next_try_at=now + CLAIM)
    if not claimed:
        return "skipped"
    delivery = WebhookDelivery.objects.select_related("endpoint", "event").get(pk=delivery_id)
    status_code, head, error, duration = _try(delivery, now)
    ok = status_code is not None and 200 <= status_code < 300
    tries = delivery.tries + 1
    delay = None if ok or error == PAUSED else backoff_delay(tries, rng=rng)
    if ok:
        outcome, fields = "delivered", {"status": DeliveryStatus.DELIVERED, "next_try_at": None}
    elif delay is None:
        outcome, fields = "failed", {"status": DeliveryStatus.FAILED, "next_try_at": None}
    else:
        when = now + timedelta(seconds=delay)
        outcome, fields = "retrying", {"next_try_at": when}
    with transaction.atomic():
        number = WebhookAttempt.objects.filter(delivery_id=delivery_id).count() + 1
        manual = delivery.tries == 0 and number > 1  # the first try after a redeliver
        WebhookAttempt.objects.create(
            delivery_id=delivery_id,
            number=number,
            status_code=status_code,
            duration_ms=duration,
            response_head=head[:HEAD].decode("utf-8", "replace")[:HEAD],
            error=error[:500],
            manual=manual,
        )
        WebhookDelivery.objects.filter(pk=delivery_id).update(
            tries=tries, last_status_code=status_code, last_error=error[:500], **fields
        )
        if outcome == "retrying":
            transaction.on_commit(lambda: webhook_delivery_enqueue(delivery_id, countdown=delay))
    return outcome


def webhook_delivery_redeliver(*, user, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send ``delivery`` again now, with the same ``webhook-id``, on a fresh schedule."""
    require_role(user, delivery.endpoint.team_id, Action.MANAGE_MEMBERS)
    now = timezone.now()
    with transaction.atomic():
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status=DeliveryStatus.PENDING, tries=0, next_try_at=now
        )
        transaction.on_commit(lambda: webhook_delivery_enqueue(delivery.pk))
    delivery.refresh_from_db()
    return delivery


def webhook_deliveries_due_send(*, now=None) -> int:
    """Enqueue the pending deliveries whose try is due (a lost task, a worker that died in a
    try); the beat runs it every minute. Returns how many were enqueued."""
    now = now or timezone.now()
    due = list(
        WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING, next_try_at__lte=now)
        .order_by("next_try_at")
        .values_list("pk", flat=True)[:SWEEP_LIMIT]
    )
    for pk in due:
        webhook_delivery_enqueue(pk)
    return len(due)
