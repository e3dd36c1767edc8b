"""Requests per minute per caller key (an API token, a team ingest key, a signed-in user), for
the OpenAI-compatible routes (``/v1/…``, ``/proxy/v1/…``).

A fixed one-minute window counted in the database (:class:`RequestWindow`), not in a process:
gunicorn's workers and every web machine share it, and the embedded default needs no Redis.
A refused request is not counted, so a client that waits ``Retry-After`` seconds gets in.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F

from .models import RequestWindow

PERIOD_S = 60
RATE_LIMITED = (
    "Rate limit reached for this key: {limit} requests per minute. Please try again in {retry}s."
)
# Settings per scope: requests per minute per key; 0 turns the limit off.
SETTINGS = {
    "v1": ("FINETUNEDB_SERVING_RATE_LIMIT_PER_MINUTE", 120),
    "proxy": ("FINETUNEDB_PROXY_RATE_LIMIT_PER_MINUTE", 600),
}


@dataclass(frozen=True)
class RateDecision:
    allowed: bool
    limit: int
    remaining: int
    retry_after_s: int

    @property
    def message(self) -> str:
        return RATE_LIMITED.format(limit=self.limit, retry=self.retry_after_s)

    def headers(self) -> dict[str, str]:
        """What OpenAI's API sends with a 429 (its SDKs read Retry-After)."""
        return {
            "Retry-After": str(self.retry_after_s),
            "x-ratelimit-limit-requests": str(self.limit),
            "x-ratelimit-remaining-requests": str(self.remaining),
            "x-ratelimit-reset-requests": f"{self.retry_after_s}s",
        }


def caller_key(*, user=None, auth=None) -> str:
    """The key a caller is counted under: its token or ingest key (each key its own limit),
    else the signed-in user."""
    if auth is not None and getattr(auth, "pk", None) is not None:
        return f"{type(auth).__name__.lower()}:{auth.pk}"
    return f"user:{user.pk}"


def rate_limit_for(scope: str) -> int:
    name, default = SETTINGS[scope]
    return int(getattr(settings, name, default))


def rate_limit_hit(*, scope: str, key: str, now: float | None = None) -> RateDecision:
    """Count one request of ``key`` on ``scope``'s routes, or refuse it past the limit."""
    limit = rate_limit_for(scope)
    if limit <= 0:
        return RateDecision(True, 0, 0, 0)
    now = time.time() if now is None else now
    window = int(now // PERIOD_S) * PERIOD_S
    retry = max(1, math.ceil(window + PERIOD_S - now))
    name = f"{scope}:{key}"[:100]
    rows = RequestWindow.objects.filter(key=name, window=window)
    with transaction.atomic():
        # One conditional UPDATE: concurrent workers each add one, none past the limit.
        if rows.filter(count__lt=limit).update(count=F("count") + 1):
            count = rows.values_list("count", flat=True).get()
            return RateDecision(True, limit, max(0, limit - count), retry)
        if rows.exists():
            return RateDecision(False, limit, 0, retry)
        try:
            with transaction.atomic():
                RequestWindow.objects.create(key=name, window=window, count=1)
        except IntegrityError:  # another worker opened the window first: count in it
            if not rows.filter(count__lt=limit).update(count=F("count") + 1):
                return RateDecision(False, limit, 0, retry)
        # The caller's past windows are spent: one row per active key stays.
        RequestWindow.objects.filter(key=name, window__lt=window).delete()
    count = rows.values_list("count", flat=True).first() or 1
    return RateDecision(True, limit, max(0, limit - count), retry)
