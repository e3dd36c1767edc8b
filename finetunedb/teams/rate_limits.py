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
from django.db import connection

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
    count = _count_one(name, window, limit)
    if count is None:
        return RateDecision(False, limit, 0, retry)
    if count == 1:  # this request opened the window: the caller's past windows are spent
        RequestWindow.objects.filter(key=name, window__lt=window).delete()
    return RateDecision(True, limit, max(0, limit - count), retry)


def _count_one(name: str, window: int, limit: int) -> int | None:
    """Add one to the window's count unless it has reached ``limit``: the new count, or None.

    One statement (an upsert with RETURNING; SQLite 3.35+, PostgreSQL): it opens the window or
    counts in it atomically, so concurrent workers each add one and none goes past the limit,
    in autocommit — no transaction held around a read and an update, which on SQLite took the
    write lock at BEGIN and queued behind every log being written.
    """
    quote = connection.ops.quote_name
    table = quote(RequestWindow._meta.db_table)
    key, start, count = quote("key"), quote("window"), quote("count")
    sql = (
        f"INSERT INTO {table} ({key}, {start}, {count}) VALUES (%s, %s, 1) "  # noqa: S608 (model columns)
        f"ON CONFLICT ({key}, {start}) DO UPDATE SET {count} = {table}.{count} + 1 "
        f"WHERE {table}.{count} < %s RETURNING {count}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [name, window, limit])
        row = cursor.fetchone()
    return row[0] if row else None
