"""Check mapped content against :mod:`datasets_app.canonical`, fast on the common path.

``canonical.validate_content`` (jsonschema) costs about a hundred times an orjson parse, so
:func:`is_plainly_valid` first tries a hand-written check that is *stricter* than the schema:
when it says yes the schema would too; when it says no we ask the schema, which decides and
explains. The schema stays the single source of truth.
"""

from __future__ import annotations

import re

from datasets_app.canonical import METADATA_KEY_PATTERN, ROLES, validate_content

from . import errors as E

_ROLES = frozenset(ROLES)
_MESSAGE_KEYS = frozenset(("role", "content", "name", "weight", "tool_calls", "tool_call_id"))
_CONTENT_KEYS = frozenset(("messages", "tools", "metadata"))
_CALL_KEYS = frozenset(("id", "type", "function"))
_FUNCTION_KEYS = frozenset(("name", "arguments"))
_TOOL_KEYS = frozenset(("type", "function"))
# fullmatch, unlike the schema's re.search with "$", which also lets "key\n" through
_METADATA_KEY = re.compile(METADATA_KEY_PATTERN.strip("^$"))
_good_keys: set[str] = set()
MAX_MESSAGES = 10_000
_MISSING = object()


def is_metadata_key(key) -> bool:
    if key in _good_keys:
        return True
    if type(key) is str and _METADATA_KEY.fullmatch(key):
        if len(_good_keys) < 10_000:
            _good_keys.add(key)
        return True
    return False


def _short_string(value) -> bool:
    return type(value) is str and 0 < len(value) <= 256


def _message_ok(m) -> bool:
    if type(m) is not dict:
        return False
    role = m.get("role")
    content = m.get("content", _MISSING)
    if type(role) is not str:
        return False
    if len(m) == 2 and type(content) is str and role in _ROLES:
        return True
    if role not in _ROLES or content is _MISSING or not _MESSAGE_KEYS.issuperset(m):
        return False
    if type(content) is not str and not (
        content is None and role == "assistant" and "tool_calls" in m
    ):
        return False
    if "name" in m and not _short_string(m["name"]):
        return False
    if "weight" in m:
        weight = m["weight"]
        if role != "assistant" or type(weight) is not int or weight not in (0, 1):
            return False
    if "tool_call_id" in m and (role != "tool" or not _short_string(m["tool_call_id"])):
        return False
    if "tool_calls" in m:
        calls = m["tool_calls"]
        if role != "assistant" or type(calls) is not list or not calls:
            return False
        for call in calls:
            if type(call) is not dict or call.keys() != _CALL_KEYS:
                return False
            function = call["function"]
            if call["type"] != "function" or not _short_string(call["id"]):
                return False
            if type(function) is not dict or function.keys() != _FUNCTION_KEYS:
                return False
            if not _short_string(function["name"]) or type(function["arguments"]) is not str:
                return False
    return True


def _tool_ok(tool) -> bool:
    if type(tool) is not dict or tool.keys() != _TOOL_KEYS or tool["type"] != "function":
        return False
    function = tool["function"]
    if type(function) is not dict or not _short_string(function.get("name")):
        return False
    if "description" in function and type(function["description"]) is not str:
        return False
    if "parameters" in function and type(function["parameters"]) is not dict:
        return False
    return "strict" not in function or type(function["strict"]) is bool


def is_plainly_valid(content) -> bool:
    """True only when ``content`` certainly passes ``canonical.validate_content``."""
    if type(content) is not dict or not _CONTENT_KEYS.issuperset(content):
        return False
    messages = content.get("messages")
    if type(messages) is not list or not 0 < len(messages) <= MAX_MESSAGES:
        return False
    for m in messages:
        # the common message, {"role", "content": str}, without a function call
        if (
            type(m) is dict
            and len(m) == 2
            and type(m.get("content")) is str
            and type(m.get("role")) is str
            and m["role"] in _ROLES
        ):
            continue
        if not _message_ok(m):
            return False
    tools = content.get("tools")
    if tools is not None:
        if type(tools) is not list:
            return False
        for tool in tools:
            if not _tool_ok(tool):
                return False
    if "metadata" in content:
        metadata = content["metadata"]
        if type(metadata) is not dict:
            return False
        for key in metadata:
            if not is_metadata_key(key):
                return False
    return True


def content_error(content, line: int) -> E.RowError | None:
    """None when ``content`` is canonical; otherwise one error naming the first problems."""
    if is_plainly_valid(content):
        return None
    problems = validate_content(content)
    if not problems:
        return None
    shown = "; ".join(f"{p.path}: {p.message}" for p in problems[:3])
    more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
    return E.RowError(line, E.INVALID_CONTENT, f"{shown}{more}.", problems[0].path)
