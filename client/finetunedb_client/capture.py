"""Capture an application's LLM calls into FinetuneDB (DESIGN §8, issue 19's thin client).

Two pieces, neither of which ever blocks or raises into the application:

* :class:`Logger` — ``logger.log(messages=…, response=…, model=…)`` puts the log on a bounded
  queue and returns; a background thread sends batches to ``POST /api/v1/logs/`` with a team
  ingest key when ``batch_size`` logs are waiting or ``flush_interval`` seconds have passed,
  and at exit. Each batch carries its own ``Idempotency-Key``, kept across its retries (429,
  5xx, lost connections, exponential backoff with jitter, Retry-After honoured), so a batch
  whose answer was lost is stored once. What cannot be sent (queue full, retries exhausted,
  refused by the server) is counted in ``dropped``; ``stats()`` says all.
* :func:`wrap_openai` — wraps an ``openai.OpenAI`` client so every
  ``client.chat.completions.create(...)`` (streaming or not) is logged with its latency, usage,
  tags and metadata, and otherwise behaves exactly as before.

    from openai import OpenAI
    from finetunedb_client.capture import Logger, wrap_openai

    logger = Logger("http://127.0.0.1:8000", ingest_key="ftdbi_…", tags=["prod"])
    client = wrap_openai(OpenAI(), logger, metadata={"app": "support-bot"})
    client.chat.completions.create(model="gpt-4o-mini", messages=[...],
                                   log_tags=["checkout"], log_metadata={"user_tier": "pro"})
"""

from __future__ import annotations

import atexit
import json
import logging
import queue
import random
import threading
import time
import uuid
import weakref
from datetime import datetime, timezone

import requests

from .capture_openai import wrap_openai
from .transport import backoff_delay, retry_after_seconds

__all__ = ["Logger", "wrap_openai"]

logger_log = logging.getLogger("finetunedb_client.capture")

MAX_BATCH = 1000
WARN_EVERY_S = 60.0
RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})


class Logger:
    """Batched, retried, never-raising log sender. ``url``: the server's root; ``ingest_key``:
    a team ingest key (``POST /api/v1/teams/{id}/ingest-keys/``). ``tags`` and ``metadata`` are
    added to every log (a log's own win)."""

    def __init__(
        self,
        url: str,
        ingest_key: str,
        *,
        batch_size: int = 100,
        flush_interval: float = 2.0,
        max_queue: int = 10_000,
        max_retries: int = 8,
        backoff: float = 0.5,
        max_backoff: float = 30.0,
        timeout: float = 30.0,
        tags: list[str] | None = None,
        metadata: dict | None = None,
        session: requests.Session | None = None,
    ):
        if not 1 <= batch_size <= MAX_BATCH:
            raise ValueError(f"batch_size is 1-{MAX_BATCH}")
        self.endpoint = url.rstrip("/") + "/api/v1/logs/"
        self.batch_size = batch_size
        self.flush_interval = flush_interval
        self.max_retries = max_retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.timeout = timeout
        self.tags = list(tags or [])
        self.metadata = dict(metadata or {})
        self._session = session or requests.Session()
        self._session.headers["Authorization"] = f"Token {ingest_key}"
        self._queue: queue.Queue = queue.Queue(maxsize=max_queue)
        self._lock = threading.Condition()
        self._pending = 0  # queued or in a batch not yet settled
        self._flush_now = threading.Event()
        self._closed = False
        self.sent = 0
        self.dropped = 0
        self.rejected = 0
        self.retries = 0
        self.batches = 0
        self.last_error: str | None = None
        self._warned_at = -WARN_EVERY_S
        self._thread = threading.Thread(target=self._run, name="finetunedb-logger", daemon=True)
        self._thread.start()
        atexit.register(_close_at_exit, weakref.ref(self))

    # --- the application's side: never blocks, never raises --------------------------------
    def log(
        self,
        *,
        messages: list,
        response=None,
        model: str | None = None,
        tools: list | None = None,
        error: dict | None = None,
        tags: list[str] | None = None,
        metadata: dict | None = None,
        latency_ms: int | None = None,
        usage: dict | None = None,
        trace_id: str | None = None,
        timestamp: str | None = None,
    ) -> bool:
        """Queue one log; False when it was dropped (queue full, logger closed, unserializable)."""
        try:
            entry = {"messages": messages}
            optional = {
                "response": response,
                "model": model,
                "tools": tools,
                "error": error,
                "latency_ms": latency_ms,
                "usage": usage,
                "trace_id": trace_id,
                "timestamp": timestamp
                or datetime.now(timezone.utc).isoformat().replace("+00:00", "Z"),  # noqa: UP017 - 3.10
            }
            entry.update({k: v for k, v in optional.items() if v is not None})
            all_tags = list(dict.fromkeys(self.tags + list(tags or [])))
            if all_tags:
                entry["tags"] = all_tags
            merged = {**self.metadata, **(metadata or {})}
            if merged:
                entry["metadata"] = merged
            json.dumps(entry)  # unserializable content is the caller's bug: drop it here
            return self._enqueue(entry)
        except Exception as exc:  # noqa: BLE001 - logging must never break the application
            self._drop(1, f"log() refused: {exc!r}")
            return False

    def _enqueue(self, entry: dict) -> bool:
        if self._closed:
            self._drop(1, "logger closed")
            return False
        with self._lock:
            self._pending += 1
        try:
            self._queue.put_nowait(entry)
        except queue.Full:
            with self._lock:
                self._pending -= 1
                self._lock.notify_all()
            self._drop(1, "queue full")
            return False
        return True

    def flush(self, timeout: float | None = 30.0) -> bool:
        """Send what is queued now; True when everything queued has been settled in time."""
        self._flush_now.set()
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._lock:
            while self._pending:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return False
                self._lock.wait(left if left is not None else 1.0)
                self._flush_now.set()
        return True

    def close(self, timeout: float | None = 30.0) -> bool:
        """Flush, then stop the thread; later ``log()`` calls are dropped."""
        done = self.flush(timeout)
        self._closed = True
        self._flush_now.set()
        try:
            self._queue.put_nowait(None)  # wakes the thread at once
        except queue.Full:
            pass
        self._thread.join(timeout=1.0)
        return done

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def stats(self) -> dict:
        return {
            "sent": self.sent,
            "dropped": self.dropped,
            "rejected": self.rejected,
            "retries": self.retries,
            "batches": self.batches,
            "queued": self._pending,
            "last_error": self.last_error,
        }

    # --- the background thread --------------------------------------------------------------
    def _run(self) -> None:
        while True:
            batch = self._collect()
            if batch is None:
                return
            if batch:
                try:
                    self._send(batch)
                except Exception as exc:  # noqa: BLE001 - the thread must survive anything
                    self._drop(len(batch), f"unexpected: {exc!r}")
                finally:
                    with self._lock:
                        self._pending -= len(batch)
                        self._lock.notify_all()

    def _collect(self) -> list | None:
        """Up to ``batch_size`` logs: as soon as that many wait, at ``flush_interval``, or on
        flush. None once closed and drained."""
        batch: list = []
        deadline = time.monotonic() + self.flush_interval
        while len(batch) < self.batch_size:
            if self._flush_now.is_set() and self._queue.empty():
                self._flush_now.clear()
                break
            left = deadline - time.monotonic()
            if left <= 0:
                break
            try:
                entry = self._queue.get(timeout=min(left, 0.1))
            except queue.Empty:
                if self._closed and not batch:
                    return None
                continue
            if entry is None:
                if batch:
                    break
                return None if self._queue.empty() else []
            batch.append(entry)
        return batch

    def _send(self, batch: list) -> None:
        key = uuid.uuid4().hex  # one per batch, kept across its retries
        body = json.dumps({"logs": batch}).encode()
        headers = {"Content-Type": "application/json", "Idempotency-Key": key}
        attempt = 0
        while True:
            wait = None
            try:
                response = self._session.post(
                    self.endpoint,
                    data=body,
                    headers=headers,
                    params={"mode": "skip_invalid"},
                    timeout=self.timeout,
                )
            except requests.RequestException as exc:
                error = f"{exc.__class__.__name__}: {exc}"
            else:
                if response.status_code == 202:
                    result = response.json()
                    rejected = len({r.get("index") for r in result.get("rejected") or []})
                    self.sent += int(result.get("accepted", 0))
                    self.rejected += rejected
                    self.dropped += rejected
                    self.batches += 1
                    if rejected:
                        self.last_error = f"{rejected} logs rejected: {result['rejected'][0]}"
                    return
                error = f"HTTP {response.status_code}: {response.text[:300]}"
                if response.status_code not in RETRY_STATUSES:
                    self._drop(len(batch), error)
                    return
                wait = retry_after_seconds(response.headers.get("Retry-After"))
            if attempt >= self.max_retries:
                self._drop(len(batch), f"gave up after {attempt + 1} tries: {error}")
                return
            self.retries += 1
            self.last_error = error
            if wait is None:
                wait = backoff_delay(attempt, base=self.backoff, cap=self.max_backoff, rng=random)
            time.sleep(min(wait, self.max_backoff))
            attempt += 1

    def _drop(self, n: int, why: str) -> None:
        self.dropped += n
        self.last_error = why
        # One warning a minute at most: a server down for an hour must not flood the app's logs.
        now = time.monotonic()
        if now - self._warned_at >= WARN_EVERY_S:
            self._warned_at = now
            logger_log.warning(
                "finetunedb: dropped %d log(s) (%d so far): %s", n, self.dropped, why
            )


def _close_at_exit(ref) -> None:
    logger = ref()
    if logger is not None and not logger._closed:
        logger.close(timeout=10.0)
