"""What the logging proxy stores: one log per call, never failing the call."""

from __future__ import annotations

import logging
import time

import orjson

from ..models import LogSource
from .logs import log_batch_create

logger = logging.getLogger(__name__)
REQUEST_FIELDS = ("messages", "tools", "model")


def stream_summary(body: bytes) -> dict:
    """The ``chat.completion`` an SSE stream of ``chat.completion.chunk`` events adds up to.

    >>> stream_summary(b'data: {"model":"m","choices":[{"delta":{"role":"assistant","content":"He"}}]}\\n\\n'
    ...                b'data: {"choices":[{"delta":{"content":"llo"}}]}\\n\\ndata: [DONE]\\n\\n')["choices"][0]["message"]
    {'role': 'assistant', 'content': 'Hello'}
    """
    content, model, usage, calls = [], None, None, {}
    for line in body.split(b"\n"):
        line = line.strip()
        if not line.startswith(b"data:"):
            continue
        data = line[5:].strip()
        if data == b"[DONE]":
            break
        try:
            event = orjson.loads(data)
        except orjson.JSONDecodeError:
            continue
        if not isinstance(event, dict):
            continue
        model = event.get("model") or model
        if isinstance(event.get("usage"), dict):
            usage = event["usage"]
        for choice in event.get("choices") or []:
            delta = choice.get("delta") if isinstance(choice, dict) else None
            if not isinstance(delta, dict) or choice.get("index", 0) != 0:
                continue
            if isinstance(delta.get("content"), str):
                content.append(delta["content"])
            for call in delta.get("tool_calls") or []:
                slot = calls.setdefault(
                    call.get("index", 0),
                    {"id": None, "type": "function", "function": {"name": "", "arguments": ""}},
                )
                slot["id"] = call.get("id") or slot["id"]
                function = call.get("function") or {}
                slot["function"]["name"] += function.get("name") or ""
                slot["function"]["arguments"] += function.get("arguments") or ""
    message = {"role": "assistant", "content": "".join(content) if content or not calls else None}
    if calls:
        message["tool_calls"] = [calls[i] for i in sorted(calls)]
    out = {"object": "chat.completion", "model": model, "choices": [{"message": message}]}
    if usage:
        out["usage"] = usage
    return out


def proxy_log(
    *,
    team,
    ingest_key,
    request: dict,
    upstream: str,
    started: float,
    completion=None,
    error=None,
    latency_ms: int | None = None,
) -> None:
    """Log one proxied call; a log that cannot be stored is reported, never raised.

    ``latency_ms`` defaults to the time since ``started`` (give it when logging later than the
    answer was complete)."""
    entry = {k: request[k] for k in REQUEST_FIELDS if request.get(k) is not None}
    if latency_ms is None:
        latency_ms = int((time.perf_counter() - started) * 1000)
    entry["latency_ms"] = latency_ms
    entry["metadata"] = {"upstream": upstream}
    if completion is not None:
        entry["response"] = completion
        if not completion.get("model"):
            completion.pop("model", None)
    if error is not None:
        entry["error"] = error
    try:
        result = log_batch_create(
            team=team,
            entries=[entry],
            source=LogSource.PROXY,
            ingest_key=ingest_key,
            skip_invalid=True,
        )
    except Exception:  # the caller already has its answer; losing the log must not change it
        logger.exception("proxy log failed")
        return
    if result.errors:
        logger.warning("proxy call not logged: %s", result.errors[:3])
