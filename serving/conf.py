"""Serving settings, read from Django settings with defaults (the environment sets them in
deployments: FINETUNEDB_SERVING_URL, FINETUNEDB_SERVING_MAX_BODY_BYTES)."""

from __future__ import annotations

import os

from django.conf import settings

DEFAULT_URL = "http://127.0.0.1:8011"


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
