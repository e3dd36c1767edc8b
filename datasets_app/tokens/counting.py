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
from dataclasses import dataclass

import orjson

TOKENS_PER_MESSAGE = 3
TOKENS_PER_NAME = 1
PRIMING_TOKENS = 3

# Roles repeat in every message; remembering their counts saves a third of the encode calls.
_ROLE_CACHE: dict[tuple[str, str], int] = {}
_ROLE_CACHE_MAX = 256


@dataclass(frozen=True, slots=True)
class ExampleTokens:
    """What the cookbook's statistics need from one example."""

    n_messages: int
    total_tokens: int
    assistant_tokens: int
    has_system: bool
    has_user: bool


def _value_text(value) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return orjson.dumps(value).decode()


def _role_tokens(role: str, encoding) -> int:
    key = (encoding.name, role)
    cached = _ROLE_CACHE.get(key)
    if cached is None:
        cached = len(encoding.encode_ordinary(role))
        if len(_ROLE_CACHE) < _ROLE_CACHE_MAX:
            _ROLE_CACHE[key] = cached
    return cached


def count_example_tokens(messages: Iterable[dict], encoding) -> ExampleTokens:
    """Count one example's messages; ``encoding`` is a ``tiktoken.Encoding``.

    >>> enc = load_encoding("cl100k_base", cache_dir=...)        # doctest: +SKIP
    >>> count_example_tokens([{"role": "user", "content": "Hi"}], enc).total_tokens  # doctest: +SKIP
    8
    """
    encode = encoding.encode_ordinary
    n_messages = total = assistant = 0
    has_system = has_user = False
    for message in messages:
        n_messages += 1
        total += TOKENS_PER_MESSAGE
        role = message.get("role")
        for key, value in message.items():
            if key == "role" and isinstance(value, str):
                total += _role_tokens(value, encoding)
                continue
            text = _value_text(value)
            if text is None:
                continue
            n = len(encode(text))
            total += n
            if key == "name":
                total += TOKENS_PER_NAME
            elif key == "content" and role == "assistant":
                assistant += n
        if role == "system":
            has_system = True
        elif role == "user":
            has_user = True
    return ExampleTokens(n_messages, total + PRIMING_TOKENS, assistant, has_system, has_user)
