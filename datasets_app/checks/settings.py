"""The knobs of the check engine; a dataset's settings map onto these fields."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class CheckSettings:
    # Examples longer than this (cookbook token count) are flagged over_context_length.
    target_context_tokens: int = 4096
    # tiktoken encoding for counts: cl100k_base or o200k_base.
    encoding: str = "cl100k_base"
    # JSON Schema every final assistant answer must parse and validate against; None: no check.
    assistant_json_schema: Mapping[str, Any] | None = None
    # Final answers shorter than this (stripped, in characters) are flagged short_answer.
    min_answer_chars: int = 3
    # Text with at least this many ASCII letters is checked for mostly_uppercase ...
    uppercase_min_letters: int = 20
    # ... and flagged when more than this share of them is upper-case (legacy OpenAI validator).
    uppercase_max_share: float = 1 / 3
    # Dataset size: fewer than the first is an error, fewer than the second a warning.
    min_examples_error: int = 10
    min_examples_warning: int = 100
    # Style drift is reported when the minority is at most this share of the answers ...
    style_minority_share: float = 0.25
    # ... and only over at least this many answers that show the feature.
    style_min_answers: int = 10
    # A shared first-user-message prefix is reported when it is at least this long ...
    prefix_min_chars: int = 40
    # ... and at least this share of the examples with a user message starts with it.
    prefix_min_share: float = 0.9
    # Two system prompts are near-identical when their word-sequence similarity reaches this.
    system_prompt_similarity: float = 0.8
    # Rule ids that are not reported at all.
    disabled_rules: frozenset[str] = field(default_factory=frozenset)


DEFAULT_SETTINGS = CheckSettings()
