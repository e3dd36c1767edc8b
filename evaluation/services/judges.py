"""Judges on OpenAI-compatible endpoints the administrator configured (FINETUNEDB_JUDGES).

A suite's ``llm_judge`` names a judge; here a named endpoint answers each judge prompt with one
``POST {base_url}/chat/completions`` (temperature 0), through the logging proxy's upstream code
(``capture.upstream``: http(s) only, the administrator's key, a timeout). Never a URL from a
user. A call that times out, fails, answers an HTTP error or anything but a chat completion is
``(None, why)``: the item is ``judge_error`` with that reason, never a silent 0.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

from django.core.exceptions import ImproperlyConfigured

from capture.upstream import Upstream, upstream_from_entry, upstream_open

from ..conf import judge_endpoints

TIMED_OUT = "the judge endpoint {name!r} timed out after {timeout} s"
UNREACHABLE = "the judge endpoint {name!r} could not be reached ({kind})"
HTTP_ERROR = "the judge endpoint {name!r} answered HTTP {status}"
NOT_A_COMPLETION = "the judge endpoint {name!r} did not answer with a chat completion"
NEEDS_MODEL = "FINETUNEDB_JUDGES[{name!r}] needs a model (the endpoint's model name)"
BAD_TIMEOUT = "FINETUNEDB_JUDGES[{name!r}].timeout must be a number of seconds from 0.1 to 600"
MAX_REPLY_BYTES = 1_000_000
PARALLEL_CALLS = 4
DEFAULT_TIMEOUT = 30


def is_endpoint(name: str) -> bool:
    return name in judge_endpoints()


def _endpoint(name: str) -> tuple[Upstream, str, float]:
    entry = judge_endpoints()[name]
    upstream = upstream_from_entry(name, entry, setting="FINETUNEDB_JUDGES")
    model = entry.get("model")
    if not isinstance(model, str) or not model:
        raise ImproperlyConfigured(NEEDS_MODEL.format(name=name))
    timeout = entry.get("timeout", DEFAULT_TIMEOUT)
    if (
        isinstance(timeout, bool)
        or not isinstance(timeout, int | float)
        or not 0.1 <= timeout <= 600
    ):
        raise ImproperlyConfigured(BAD_TIMEOUT.format(name=name))
    return upstream, model, float(timeout)


def completion_text(raw: bytes) -> str | None:
    """The first choice's message content of an OpenAI chat completion, else None."""
    try:
        body = json.loads(raw)
        content = body["choices"][0]["message"]["content"]
    except (ValueError, RecursionError, KeyError, IndexError, TypeError):
        return None
    return content if isinstance(content, str) else None


def _ask(upstream: Upstream, model: str, timeout: float, messages, max_tokens: int):
    name = upstream.name
    body = json.dumps(
        {"model": model, "messages": messages, "max_tokens": max_tokens, "temperature": 0}
    ).encode()
    try:
        response = upstream_open(upstream, "/chat/completions", body, timeout=timeout)
        with response:
            status = getattr(response, "status", None) or response.getcode()
            raw = response.read(MAX_REPLY_BYTES + 1)
    except OSError as exc:
        # urllib wraps a connect timeout in URLError(reason=TimeoutError); a read timeout is bare
        if isinstance(exc, TimeoutError) or isinstance(getattr(exc, "reason", None), TimeoutError):
            return None, TIMED_OUT.format(name=name, timeout=f"{timeout:g}")
        return None, UNREACHABLE.format(name=name, kind=type(exc).__name__)
    if status != 200:
        return None, HTTP_ERROR.format(name=name, status=status)
    text = completion_text(raw) if len(raw) <= MAX_REPLY_BYTES else None
    if text is None:
        return None, NOT_A_COMPLETION.format(name=name)
    return text, ""


def judge_endpoint_answers(
    name: str, prompts: list[list[dict]], *, max_tokens: int
) -> list[tuple[str | None, str]]:
    """Each prompt's ``(answer, "")`` from endpoint ``name``, or ``(None, why)``; in order."""
    upstream, model, timeout = _endpoint(name)
    if not prompts:
        return []
    with ThreadPoolExecutor(max_workers=min(PARALLEL_CALLS, len(prompts))) as pool:
        return list(
            pool.map(lambda messages: _ask(upstream, model, timeout, messages, max_tokens), prompts)
        )
