"""What the services hand the pure check engine: settings mapped from a dataset, and one
verified offline tiktoken encoding per process."""

from __future__ import annotations

from functools import lru_cache

from django.conf import settings as django_settings

from ...checks import CheckSettings
from ...models import Dataset
from ...tokens import load_encoding

# The dataset settings that change check results; a report computed under others is stale.
SETTING_KEYS = ("target_context_tokens", "token_encoding", "assistant_json_schema")


def settings_snapshot(dataset: Dataset) -> dict:
    effective = dataset.effective_settings
    return {key: effective.get(key) for key in SETTING_KEYS}


def check_settings_for(dataset: Dataset) -> CheckSettings:
    snapshot = settings_snapshot(dataset)
    return CheckSettings(
        target_context_tokens=int(snapshot["target_context_tokens"] or 4096),
        encoding=snapshot["token_encoding"] or "cl100k_base",
        assistant_json_schema=snapshot["assistant_json_schema"] or None,
    )


@lru_cache(maxsize=4)
def encoding_for(name: str):
    """The tiktoken encoding ``name``, loaded once per process from the verified shipped files."""
    return load_encoding(name, cache_dir=django_settings.DATA_DIR / "tiktoken")


def content_of(messages, tools, metadata=None) -> dict:
    """Canonical content as the engine reads it; of the metadata only a preference pair's
    rejected side plays a part (the pair rules)."""
    content = {"messages": messages}
    if tools:
        content["tools"] = tools
    if isinstance(metadata, dict) and "rejected" in metadata:
        content["metadata"] = {"rejected": metadata["rejected"]}
    return content
