"""Serving settings, read from Django settings with defaults (the environment sets them in
deployments: FINETUNEDB_SERVING_URL, FINETUNEDB_SERVING_MAX_BODY_BYTES)."""

from __future__ import annotations

import json
import os

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

DEFAULT_URL = "http://127.0.0.1:8011"
BAD_ENGINE = "FINETUNEDB_SERVING_ENGINE={kind!r}: use 'embedded' or 'vllm'"


def engine_url() -> str:
    return getattr(settings, "FINETUNEDB_SERVING_URL", None) or os.environ.get(
        "FINETUNEDB_SERVING_URL", DEFAULT_URL
    )


def engine_configured_url() -> str | None:
    """The engine's URL when the deployment named one (``make run`` and the stack do), else
    None: the app's own jobs then generate in-process (serving/generation.py)."""
    return getattr(settings, "FINETUNEDB_SERVING_URL", None) or os.environ.get(
        "FINETUNEDB_SERVING_URL"
    )


def max_body_bytes() -> int:
    return int(
        getattr(settings, "FINETUNEDB_SERVING_MAX_BODY_BYTES", None)
        or os.environ.get("FINETUNEDB_SERVING_MAX_BODY_BYTES", 1024 * 1024)
    )


def engine_timeout_s() -> float:
    """Longest wait for the engine's next event before the client gets an error."""
    return float(getattr(settings, "FINETUNEDB_SERVING_TIMEOUT_S", 300))


RETRY_AFTER_S = 2


def engine_kind() -> str:
    """``embedded`` (serving/engine, the default) or ``vllm`` (vLLM's OpenAI server on a GPU
    machine, serving/vllm_client.py): FINETUNEDB_SERVING_ENGINE."""
    kind = getattr(settings, "FINETUNEDB_SERVING_ENGINE", None) or os.environ.get(
        "FINETUNEDB_SERVING_ENGINE", "embedded"
    )
    if kind not in ("embedded", "vllm"):
        raise ImproperlyConfigured(BAD_ENGINE.format(kind=kind))
    return kind


def vllm_setting(name: str, default=""):
    """FINETUNEDB_VLLM_URL (its /v1 base URL), FINETUNEDB_VLLM_API_KEY (its --api-key, if any),
    FINETUNEDB_VLLM_MODELS (JSON: the app's base model name -> the name vLLM serves it by)."""
    value = getattr(settings, name, None)
    if value is None:
        value = os.environ.get(name, "")
        if name == "FINETUNEDB_VLLM_MODELS":
            value = json.loads(value or "{}")
    return value or default
