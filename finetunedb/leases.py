"""Claim-by-update with a lease: how background jobs make sure exactly one worker runs them.

A job row has ``status`` (queued/running/…), ``attempts``, ``lease_expires_at``, ``started_at``,
``finished_at`` and ``failure_reason``. A worker takes a job with one conditional UPDATE — it
matches only a queued job, or a running one whose lease expired (its worker died) — and from then
on every write it makes is filtered on ``(status=running, attempts=<its attempt>)``, so a worker
that lost its lease can no longer change the row. Jobs interrupted ``max_attempts`` times are
failed instead of retried forever.
"""

from __future__ import annotations

from datetime import timedelta

from django.db.models import F, Model, Q, QuerySet
from django.utils import timezone

QUEUED, RUNNING, FAILED = "queued", "running", "failed"


def lease_claim(
    model: type[Model],
    *,
    pk: int,
    lease: timedelta,
    max_attempts: int,
    gave_up: str,
    reset: dict | None = None,
) -> int | None:
    """Take job ``pk``; returns the attempt number now held, or None when it is not claimable
    (finished, or running under a live lease). ``reset`` fields are set on the claimed row."""
    now = timezone.now()
    claimable = Q(status=QUEUED) | Q(status=RUNNING, lease_expires_at__lt=now)
    model.objects.filter(claimable, pk=pk, attempts__gte=max_attempts).update(
        status=FAILED, finished_at=now, failure_reason=gave_up
    )
    claimed = model.objects.filter(claimable, pk=pk, attempts__lt=max_attempts).update(
        status=RUNNING,
        attempts=F("attempts") + 1,
        lease_expires_at=now + lease,
        started_at=now,
        **(reset or {}),
    )
    if not claimed:
        return None
    return model.objects.values_list("attempts", flat=True).get(pk=pk)


def lease_held(model: type[Model], *, pk: int, attempt: int) -> QuerySet:
    """The job row, only while this attempt still holds it: update through this."""
    return model.objects.filter(pk=pk, status=RUNNING, attempts=attempt)


def lease_stale(model: type[Model], *, lease: timedelta) -> QuerySet:
    """Jobs a dead worker left behind: queued for longer than a lease, or running past it."""
    now = timezone.now()
    return model.objects.filter(
        Q(status=QUEUED, created_at__lt=now - lease) | Q(status=RUNNING, lease_expires_at__lt=now)
    )
