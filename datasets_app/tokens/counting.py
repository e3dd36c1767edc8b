"""Token counts per example with the OpenAI cookbook's method.

From "Data preparation and analysis for chat model fine-tuning" (openai-cookbook,
``examples/Chat_finetuning_data_prep.ipynb``): every message costs 3 tokens plus the tokens of
EVERY value in it (the role too), a ``name`` costs 1 more, and 3 tokens prime the reply. The
notebook itself calls the count "not exact". Assistant tokens are the tokens of the assistant
messages' ``content`` only.

Deviations, all for inputs on which the notebook raises instead of counting:

* non-string values (``weight``, ``tool_calls``) are serialized as compact JSON and encoded;
* ``None`` (content of a tool-calling turn) counts 0 tokens;
* text is encoded with ``encode_ordinary``: a literal ``<|endoftext|>`` in a message counts as
  the plain text it is, where the notebook's ``encode`` raises. For all other text the two agree.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

import orjson

TOKENS_PER_MESSAGE = 3
TOKENS_PER_NAME = 1
PRIMING_TOKENS = 3

# Roles repeat in every message; remembering their counts saves a third of the encode calls.
_ROLE_CACHE: dict[tuple[str, str], int] = {}
_ROLE_CACHE_MAX = 256


class ExampleTokens(NamedTuple):
    """What the cookbook's statistics need from one example (a named tuple: reports build
    100,000s of them)."""

    n_messages: int
    total_tokens: int
    assistant_tokens: int
    has_system: bool
    has_user: bool


def _value_text(value) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return orjson.dumps(value).decode()


def role_tokens(role: str, encoding) -> int:
    """Tokens of a role string (cached: roles repeat in every message)."""
    key = (encoding.name, role)
    cached = _ROLE_CACHE.get(key)
    if cached is None:
        cached = len(encoding.encode_ordinary(role))
        if len(_ROLE_CACHE) < _ROLE_CACHE_MAX:
            _ROLE_CACHE[key] = cached
    return cached


def message_tokens(message: dict, encoding) -> tuple[int, int]:
    """``(tokens, assistant tokens)`` of one message: 3 + every value (+1 for a name); the second
    is the tokens of its ``content`` when the role is assistant, else 0."""
    encode = encoding.encode_ordinary
    total = TOKENS_PER_MESSAGE
    assistant = 0
    role = message.get("role")
    for key, value in message.items():
        if key == "role" and isinstance(value, str):
            total += role_tokens(value, encoding)
            continue
        text = _value_text(value)
        if text is None:
            continue
        n = len(encode(text))
        total += n
        if key == "name":
            total += TOKENS_PER_NAME
        elif key == "content" and role == "assistant":
            assistant = n
    return total, assistant


def count_example_tokens(messages: Iterable[dict], encoding) -> ExampleTokens:
    """Count one example's messages; ``encoding`` is a ``tiktoken.Encoding``.

    >>> enc = load_encoding("cl100k_base", cache_dir=...)        # doctest: +SKIP
    >>> count_example_tokens([{"role": "user", "content": "Hi"}], enc).total_tokens  # doctest: +SKIP
    8
    """
    n_messages = total = assistant = 0
    has_system = has_user = False
    for message in messages:
        n_messages += 1
        message_total, message_assistant = message_tokens(message, encoding)
        total += message_total
        assistant += message_assistant
        role = message.get("role")
        if role == "system":
            has_system = True
        elif role == "user":
            has_user = True
    return ExampleTokens(n_messages, total + PRIMING_TOKENS, assistant, has_system, has_user)
