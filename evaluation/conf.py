"""The evaluation app's settings, each with its default (a deployment sets them in the
environment or in its settings module; the settings module wins).

- ``FINETUNEDB_EVAL_SUITE_MAX_ITEMS``: items a suite may hold (2,000);
- ``FINETUNEDB_EVAL_RUN_MAX_NEW_TOKENS``: the largest ``max_new_tokens`` a run may ask (1,024);
- ``FINETUNEDB_EVAL_BATCH_SIZE``: prompts generated together on the worker (8);
- ``FINETUNEDB_EVAL_JUDGE_MAX_NEW_TOKENS``: tokens a judge may answer with (96);
- ``FINETUNEDB_EVAL_JUDGES``: the judges an ``llm_judge`` evaluator may name, the
  administrator's choice and never a URL from a user: ``{name: {"base_model": ...}}``, where the
  base model must be one a training run may use (``FINETUNEDB_EVAL_JUDGE_BASE_MODEL`` sets the
  ``default`` judge's; empty: the bundled model);
- ``FINETUNEDB_JUDGES``: judges on OpenAI-compatible endpoints the administrator configured
  (settings, or the environment as JSON), ``{name: {"base_url": "https://…/v1", "api_key_env":
  "OPENAI_API_KEY", "model": "gpt-4o-mini", "timeout": 30}}`` — the same entry shape as the
  logging proxy's FINETUNEDB_UPSTREAMS (``api_key`` inline also works); a suite names a judge,
  never a URL. ``timeout`` (seconds, 0.1–600, default 30) bounds each call.
"""

from __future__ import annotations

import json
import os

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

BOUNDS = {
    "FINETUNEDB_EVAL_SUITE_MAX_ITEMS": (2_000, 1, 100_000),
    "FINETUNEDB_EVAL_RUN_MAX_NEW_TOKENS": (1_024, 1, 4_096),
    "FINETUNEDB_EVAL_BATCH_SIZE": (8, 1, 256),
    "FINETUNEDB_EVAL_JUDGE_MAX_NEW_TOKENS": (96, 1, 4_096),
}
BAD_BOUND = "{name}={value}: allowed {low}–{high}"


def eval_setting(name: str) -> int:
    default, low, high = BOUNDS[name]
    value = getattr(settings, name, None)
    if value is None:
        value = int(os.environ.get(name, "").strip() or default)
    if not low <= value <= high:
        raise ImproperlyConfigured(BAD_BOUND.format(name=name, value=value, low=low, high=high))
    return value


def eval_judges() -> dict:
    judges = getattr(settings, "FINETUNEDB_EVAL_JUDGES", None)
    if judges is None:
        judges = {"default": {"base_model": os.environ.get("FINETUNEDB_EVAL_JUDGE_BASE_MODEL", "")}}
    return judges


def judge_endpoints() -> dict:
    """The administrator's judge endpoints by name (FINETUNEDB_JUDGES)."""
    endpoints = getattr(settings, "FINETUNEDB_JUDGES", None)
    if endpoints is None:
        try:
            endpoints = json.loads(os.environ.get("FINETUNEDB_JUDGES", "").strip() or "{}")
        except ValueError as exc:
            raise ImproperlyConfigured(f"FINETUNEDB_JUDGES is not JSON: {exc}") from None
    if not isinstance(endpoints, dict):
        raise ImproperlyConfigured("FINETUNEDB_JUDGES must be a JSON object {name: endpoint}")
    return endpoints


def judge_names() -> list[str]:
    """Every judge a suite may name: the served models' and the endpoints'."""
    return sorted({*eval_judges(), *judge_endpoints()})
