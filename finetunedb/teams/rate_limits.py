"""Requests per minute per caller key (an API token, a team ingest key, a signed-in user), for
the OpenAI-compatible routes (``/v1/…``, ``/proxy/v1/…``).

A fixed one-minute window counted in the database (:class:`RequestWindow`), not in a process:
gunicorn's workers and every web machine share it, and the embedded default needs no Redis.
Past 120 a minute a process draws its requests from it in small blocks (see ``BLOCK_SHARE``).
A refused request is not counted, so a client that waits ``Retry-After`` seconds gets in.
"""

from __future__ import annotations

import math
import threading
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
    held = (name, window, limit)
    with _lock:
        drawn = _drawn.get(held)
        if drawn is not None and drawn[0] > 0:
            drawn[0] -= 1
            return RateDecision(True, limit, max(0, limit - (drawn[1] - drawn[0])), retry)
    block = _block(limit)
    count = _count(name, window, limit, block)
    if count is None and block > 1:  # fewer than a block left: one at a time to the limit
        block, count = 1, _count(name, window, limit, 1)
    if count is None:
        return RateDecision(False, limit, 0, retry)
    if count == block:  # this request opened the window: the caller's past windows are spent
        RequestWindow.objects.filter(key=name, window__lt=window).delete()
    with _lock:
        for old in [k for k in _drawn if k[1] < window]:
            del _drawn[old]
        drawn = _drawn.setdefault(held, [0, 0])
        drawn[0] += block - 1
        drawn[1] = max(drawn[1], count)
        return RateDecision(True, limit, max(0, limit - (drawn[1] - drawn[0])), retry)


# A process draws its requests from the database count in blocks of a 60th of the limit (at
# most 10: 600 a minute, one write per 10 requests), and spends them without a write; under
# 120 a minute every request is counted on its own. No process ever passes the limit (a block
# is drawn only whole and within it); what another process holds undrawn can refuse a caller
# early, by at most (processes - 1) x (block - 1) requests a window.
BLOCK_SHARE = 60
MAX_BLOCK = 10
_drawn: dict[tuple[str, int, int], list[int]] = {}  # (key, window, limit) -> [left, count]
_lock = threading.Lock()


def _block(limit: int) -> int:
    return max(1, min(MAX_BLOCK, limit // BLOCK_SHARE))


def _count(name: str, window: int, limit: int, n: int) -> int | None:
    """Add ``n`` to the window's count unless that passes ``limit``: the new count, or None.

    One statement (an upsert with RETURNING; SQLite 3.35+, PostgreSQL): it opens the window or
    counts in it atomically, so concurrent workers each add theirs and none goes past the
    limit, in autocommit — no transaction held around a read and an update, which on SQLite
    took the write lock at BEGIN and queued behind every log being written.
    """
    quote = connection.ops.quote_name
    table = quote(RequestWindow._meta.db_table)
    key, start, count = quote("key"), quote("window"), quote("count")
    sql = (
        f"INSERT INTO {table} ({key}, {start}, {count}) VALUES (%s, %s, %s) "  # noqa: S608 (model columns)
        f"ON CONFLICT ({key}, {start}) DO UPDATE SET {count} = {table}.{count} + %s "
        f"WHERE {table}.{count} + %s <= %s RETURNING {count}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [name, window, n, n, n, limit])
        row = cursor.fetchone()
    return row[0] if row else None
