"""The canonical example shape (DESIGN §3), its validation and its content hash.

Pure module: plain data in, plain data out, no Django. Every write of example content
goes through :func:`validate_content` and :func:`content_hash`.

Canonical content is the OpenAI chat fine-tuning shape::

    {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}],
     "tools": [...]}            # optional

plus ``metadata``, a free JSON object whose keys match ``^[A-Za-z0-9_]{1,64}$``. Metadata is not
part of the content hash.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any

import orjson
from jsonschema import Draft202012Validator
from referencing import Registry
from referencing.exceptions import NoSuchResource

ROLES = ("system", "user", "assistant", "tool")
METADATA_KEY_PATTERN = r"^[A-Za-z0-9_]{1,64}$"

_TOOL_CALL = {
    "type": "object",
    "required": ["id", "type", "function"],
    "additionalProperties": False,
    "properties": {
        "id": {"type": "string", "minLength": 1, "maxLength": 256},
        "type": {"const": "function"},
        "function": {
            "type": "object",
            "required": ["name", "arguments"],
            "additionalProperties": False,
            "properties": {
                "name": {"type": "string", "minLength": 1, "maxLength": 256},
                "arguments": {"type": "string"},
            },
        },
    },
}

_MESSAGE = {
    "type": "object",
    "required": ["role", "content"],
    "additionalProperties": False,
    "properties": {
        "role": {"enum": list(ROLES)},
        "content": {"type": ["string", "null"]},
        "name": {"type": "string", "minLength": 1, "maxLength": 256},
        "weight": {"enum": [0, 1]},
        "tool_calls": {"type": "array", "minItems": 1, "items": _TOOL_CALL},
        "tool_call_id": {"type": "string", "minLength": 1, "maxLength": 256},
    },
    "allOf": [
        # content may be null only when the assistant calls tools instead of answering
        {
            "if": {"required": ["content"], "properties": {"content": {"type": "null"}}},
            "then": {"required": ["tool_calls"], "properties": {"role": {"const": "assistant"}}},
        },
        {
            "if": {"required": ["weight"]},
            "then": {"properties": {"role": {"const": "assistant"}}},
        },
        {
            "if": {"required": ["tool_calls"]},
            "then": {"properties": {"role": {"const": "assistant"}}},
        },
        {
            "if": {"required": ["tool_call_id"]},
            "then": {"properties": {"role": {"const": "tool"}}},
        },
    ],
}

_TOOL = {
    "type": "object",
    "required": ["type", "function"],
    "additionalProperties": False,
    "properties": {
        "type": {"const": "function"},
        "function": {
            "type": "object",
            "required": ["name"],
            "properties": {
                "name": {"type": "string", "minLength": 1, "maxLength": 256},
                "description": {"type": "string"},
                "parameters": {"type": "object"},
                "strict": {"type": "boolean"},
            },
        },
    },
}

CONTENT_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["messages"],
    "additionalProperties": False,
    "properties": {
        "messages": {"type": "array", "minItems": 1, "maxItems": 10_000, "items": _MESSAGE},
        "tools": {"type": ["array", "null"], "items": _TOOL},
        "metadata": {
            "type": "object",
            "propertyNames": {"pattern": METADATA_KEY_PATTERN},
        },
    },
}


def _refuse_retrieval(uri: str):
    raise NoSuchResource(ref=uri)


# The schema is ours and refers to nothing, but the validator must not be able to fetch either:
# jsonschema's default registry retrieves unknown http(s) and file URIs.
_VALIDATOR = Draft202012Validator(
    CONTENT_SCHEMA, registry=Registry(retrieve=_refuse_retrieval), format_checker=None
)
# jsonschema applies "pattern" with re.search, where "$" also matches before a final newline.
_METADATA_KEY = re.compile(r"[A-Za-z0-9_]{1,64}")
INT64_MIN, UINT64_MAX = -(2**63), 2**64 - 1
BIG_INTEGER = "integer too large for 64 bits; it would not survive storage and export exactly — write it as a string"
BAD_METADATA_KEY = "metadata keys are 1-64 letters, digits or underscores"


@dataclass(frozen=True)
class ContentError:
    """One problem with submitted content: where (a JSON path such as ``messages[1].role``) and what."""

    path: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"path": self.path, "message": self.message}


def _path_string(parts) -> str:
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "$"


def _message_for(error) -> str:
    # jsonschema's own messages quote whole sub-documents; say what a person should fix instead.
    validator = error.validator
    if validator == "required":
        missing = [k for k in error.validator_value if k not in (error.instance or {})]
        return f"missing required field {', '.join(repr(k) for k in missing)}"
    if validator == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        extra = sorted(set(error.instance) - set(allowed))
        return (
            f"unrecognized field {', '.join(repr(k) for k in extra)}; allowed: {', '.join(allowed)}"
        )
    if validator == "enum":
        return f"must be one of {', '.join(repr(v) for v in error.validator_value)}"
    if validator == "const":
        return f"must be {error.validator_value!r}"
    if validator == "type":
        wanted = error.validator_value
        wanted = " or ".join(wanted) if isinstance(wanted, list) else wanted
        return f"must be of type {wanted}"
    if validator == "minItems":
        return (
            "must not be empty"
            if error.validator_value == 1
            else f"needs at least {error.validator_value} items"
        )
    if validator == "maxItems":
        return f"has more than {error.validator_value} items"
    if validator == "pattern":
        return f"does not match {error.validator_value}"
    if validator == "minLength":
        return "must not be empty"
    if validator == "maxLength":
        return f"is longer than {error.validator_value} characters"
    return error.message


def validate_content(content: Any) -> list[ContentError]:
    """Validate ``{"messages", "tools"?, "metadata"?}`` against the canonical schema.

    Returns every problem found, ordered by path; an empty list means the content is valid.
    The ``if/then`` rules of the schema report the inner failure (e.g. ``role must be 'assistant'``
    at ``messages[0].role`` for a weight on a user turn).
    """
    errors: list[ContentError] = []
    seen = set()
    for error in _VALIDATOR.iter_errors(content):
        for leaf in _leaves(error):
            item = ContentError(_path_string(leaf.absolute_path), _message_for(leaf))
            if item not in seen:
                seen.add(item)
                errors.append(item)
    for item in _value_errors(content):
        if item not in seen:
            seen.add(item)
            errors.append(item)
    errors.sort(key=lambda e: e.path)
    return errors


def _value_errors(content):
    """What the schema cannot say: exact metadata keys and integers beyond 64 bits anywhere."""
    if not isinstance(content, dict):
        return
    metadata = content.get("metadata")
    if isinstance(metadata, dict):
        for key in metadata:
            # keys the schema's pattern already refused are reported once, by the schema
            if (
                isinstance(key, str)
                and re.search(METADATA_KEY_PATTERN, key)
                and not _METADATA_KEY.fullmatch(key)
            ):
                yield ContentError("metadata", BAD_METADATA_KEY)
    stack = [((), content)]
    while stack:
        path, node = stack.pop()
        if isinstance(node, dict):
            stack.extend((path + (k,), v) for k, v in node.items())
        elif isinstance(node, list):
            stack.extend((path + (i,), v) for i, v in enumerate(node))
        elif (
            isinstance(node, int)
            and not isinstance(node, bool)
            and not INT64_MIN <= node <= UINT64_MAX
        ):
            yield ContentError(_path_string(path), BIG_INTEGER)


def _leaves(error):
    if error.context:
        for sub in error.context:
            yield from _leaves(sub)
    else:
        yield error


def canonical_bytes(obj: Any) -> bytes:
    """Canonical JSON: keys sorted, no insignificant whitespace, UTF-8 (non-ASCII not escaped)."""
    return orjson.dumps(obj, option=orjson.OPT_SORT_KEYS)


def content_object(messages: list[dict], tools: list[dict] | None) -> dict:
    """The object whose canonical JSON is hashed. Empty or missing tools are the same as none."""
    obj: dict[str, Any] = {"messages": messages}
    if tools:
        obj["tools"] = tools
    return obj


def content_hash(messages: list[dict], tools: list[dict] | None = None) -> str:
    """sha256 (hex) of the canonical JSON of ``{messages, tools}`` (DESIGN §3)."""
    return hashlib.sha256(canonical_bytes(content_object(messages, tools))).hexdigest()


def version_hash(entries) -> str:
    """sha256 over the sorted lines ``"<split>\\t<content_hash>\\n"`` of a version's entries.

    ``entries`` is an iterable of ``(split, content_hash)`` pairs; order does not matter.
    """
    digest = hashlib.sha256()
    for split, chash in sorted(entries):
        digest.update(f"{split}\t{chash}\n".encode())
    return digest.hexdigest()
