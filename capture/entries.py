"""One log entry as sent to ``POST /api/v1/logs/`` → a plain row, or the problems with it.

Pure module (no Django): plain dicts in, plain dicts out. Messages, tools and the response are
held to the canonical rules examples are (``datasets_app.canonical.validate_content``), so a
log can always become an example. Error paths name the entry's field (``messages[1].role``);
the batch service prefixes its index (``logs[3].messages[1].role``).

The response is one assistant message, or a whole OpenAI ``chat.completion`` object, whose
first choice's message becomes the response and whose ``usage`` and ``model`` fill what the
entry did not give::

    {"messages": [{"role": "user", "content": "Hi"}],
     "response": {"object": "chat.completion", "model": "gpt-4o-mini",
                  "choices": [{"message": {"role": "assistant", "content": "Hello"}}],
                  "usage": {"prompt_tokens": 8, "completion_tokens": 2, "total_tokens": 10}},
     "tags": ["prod"], "latency_ms": 412}
"""

from __future__ import annotations

import re
from datetime import datetime

import orjson

from datasets_app.canonical import ContentError, content_hash, validate_content
from datasets_app.formats.validate import is_metadata_key, is_plainly_valid

from .redaction import redact_log

FIELDS = frozenset(
    {
        "messages",
        "tools",
        "response",
        "error",
        "model",
        "tags",
        "metadata",
        "latency_ms",
        "usage",
        "trace_id",
        "timestamp",
    }
)
USAGE_FIELDS = ("prompt_tokens", "completion_tokens", "total_tokens")
_USAGE_SET = frozenset(USAGE_FIELDS)
MAX_TAGS = 32
TAG = re.compile(r"[^\s,][^,]{0,63}")
MAX_METADATA_BYTES = 16 * 1024
MAX_MODEL = 200
MAX_TRACE = 128
MAX_COUNT = 2**31 - 1

NOT_AN_OBJECT = "each log must be a JSON object"
UNKNOWN_FIELD = "unrecognized field {!r}; allowed: " + ", ".join(sorted(FIELDS))
MODEL_REQUIRED = "name the model (or send a chat.completion object whose 'model' says it)"
MODEL_TOO_LONG = f"must be a string of 1-{MAX_MODEL} characters"
NEEDS_RESPONSE_OR_ERROR = "send the response (or the call's error)"
NOT_ASSISTANT = "must be 'assistant'"
NO_CHOICES = "a chat.completion needs at least one choice with a message"
TAGS_LIST = f"must be a list of at most {MAX_TAGS} tags"
BAD_TAG = "a tag is 1-64 characters, no commas, not starting with a space"
METADATA_TOO_LARGE = f"metadata is larger than {MAX_METADATA_BYTES} bytes as JSON; keep it small"
COUNT = f"must be a whole number from 0 to {MAX_COUNT}"
TRACE = f"must be a string of at most {MAX_TRACE} characters"
TIMESTAMP = "must be an ISO 8601 time with its offset, e.g. 2026-12-06T21:30:00Z"
ERROR_OBJECT = "must be an object with a 'message' (OpenAI's error shape)"
USAGE_OBJECT = "must be an object with " + ", ".join(USAGE_FIELDS)


def _validate(content) -> list[ContentError]:
    # The import pipeline's fast check is stricter than the schema: when it passes, the schema
    # would too (and costs ~100x more); otherwise the schema decides and names the paths.
    return [] if is_plainly_valid(content) else validate_content(content)


def _count(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_COUNT


def _prefixed(errors: list[ContentError], old: str, new: str) -> list[ContentError]:
    return [ContentError(new + e.path[len(old) :], e.message) for e in errors]


def _response_from(value, errors: list[ContentError], row: dict):
    """The assistant message of ``value`` (a message, or a chat.completion object)."""
    if isinstance(value, dict) and ("choices" in value or value.get("object") == "chat.completion"):
        choices = value.get("choices")
        if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
            errors.append(ContentError("response.choices", NO_CHOICES))
            return None, "response.choices[0].message"
        if isinstance(value.get("model"), str) and not row.get("model"):
            row["model"] = value["model"]
        usage = value.get("usage")
        if isinstance(usage, dict):
            for name in USAGE_FIELDS:
                if _count(usage.get(name)) and row.get(name) is None:
                    row[name] = usage[name]
        message = choices[0].get("message")
        if isinstance(message, dict):
            # OpenAI adds fields the canonical shape has no place for (refusal, annotations, …).
            message = {
                k: v for k, v in message.items() if k in ("role", "content", "name", "tool_calls")
            }
            if not message.get("tool_calls"):
                message.pop("tool_calls", None)
        return message, "response.choices[0].message"
    return value, "response"


def entry_parse(raw, *, redact: bool = False) -> tuple[dict | None, list[ContentError]]:
    """``raw`` as the fields of a Log row, or None and every problem found, by JSON path.

    ``redact`` replaces emails, phone numbers and secrets with placeholders
    (``capture.redaction``) before the hash and the search text are computed, so nothing of
    them is stored; the row's ``redactions`` counts what was replaced.

    The common entry (plain messages, an assistant message as the response, no tools, error or
    timestamp) is recognised in one pass of cheap tests and goes straight to the row; anything
    else, and anything wrong, takes the full check, which names every problem. Both give the
    same row (a property test draws entries around the common shape)."""
    row = _plain_row(raw)
    if row is not None:
        return _row(
            row,
            raw["messages"],
            None,
            raw["response"],
            None,
            raw.get("tags", []),
            raw.get("metadata", {}),
            raw.get("latency_ms"),
            raw.get("trace_id") or "",
            None,
            redact,
        )
    return _entry_parse_checked(raw, redact=redact)


def _plain_row(raw) -> dict | None:
    """The model and usage fields of a common entry that certainly has no problem, or None
    (then ``_entry_parse_checked`` decides). Each test here implies its full check passes."""
    if (
        type(raw) is not dict
        or not FIELDS.issuperset(raw)
        or "tools" in raw
        or "error" in raw
        or "timestamp" in raw
    ):
        return None
    model = raw.get("model")
    response = raw.get("response")
    if (
        type(model) is not str
        or not 1 <= len(model) <= MAX_MODEL
        or type(response) is not dict
        or len(response) != 2
        or response.get("role") != "assistant"
        or type(response.get("content")) is not str
        or not is_plainly_valid({"messages": raw.get("messages")})
    ):
        return None
    row: dict = {}
    usage = raw.get("usage")
    if usage is not None:
        if type(usage) is not dict or not _USAGE_SET.issuperset(usage):
            return None
        for name in USAGE_FIELDS:
            value = usage.get(name)
            if value is not None and not _count(value):
                return None
            row[name] = value
    row["model"] = model
    tags = raw.get("tags", [])
    if type(tags) is not list or len(tags) > MAX_TAGS:
        return None
    for tag in tags:
        if type(tag) is not str or not TAG.fullmatch(tag):
            return None
    metadata = raw.get("metadata", {})
    if (
        type(metadata) is not dict
        or not all(map(is_metadata_key, metadata))
        or len(orjson.dumps(metadata)) > MAX_METADATA_BYTES
    ):
        return None
    latency = raw.get("latency_ms")
    if latency is not None and not _count(latency):
        return None
    trace = raw.get("trace_id")
    if trace is not None and (type(trace) is not str or len(trace) > MAX_TRACE):
        return None
    return row


def _entry_parse_checked(raw, *, redact: bool = False) -> tuple[dict | None, list[ContentError]]:
    """``entry_parse`` with every check run: the row, or None and every problem found."""
    if not isinstance(raw, dict):
        return None, [ContentError("$", NOT_AN_OBJECT)]
    errors: list[ContentError] = [
        ContentError(str(key), UNKNOWN_FIELD.format(key)) for key in raw if key not in FIELDS
    ]
    row: dict = {}
    usage = raw.get("usage")
    if usage is not None:
        if not isinstance(usage, dict) or set(usage) - set(USAGE_FIELDS):
            errors.append(ContentError("usage", USAGE_OBJECT))
        else:
            for name in USAGE_FIELDS:
                if usage.get(name) is not None and not _count(usage[name]):
                    errors.append(ContentError(f"usage.{name}", COUNT))
                else:
                    row[name] = usage.get(name)
    model = raw.get("model")
    if model is not None:
        if not isinstance(model, str) or not 1 <= len(model) <= MAX_MODEL:
            errors.append(ContentError("model", MODEL_TOO_LONG))
        else:
            row["model"] = model

    messages, tools = raw.get("messages"), raw.get("tools")
    errors += _validate(
        {"messages": messages, **({"tools": tools} if tools is not None else {})}
        if "messages" in raw
        else {}
    )
    response, where = None, "response"
    if raw.get("response") is not None:
        response, where = _response_from(raw["response"], errors, row)
        if response is not None:
            found = _validate({"messages": [response]})
            errors += _prefixed(found, "messages[0]", where)
            if isinstance(response, dict) and response.get("role") not in (None, "assistant"):
                if not any(e.path == f"{where}.role" for e in found):
                    errors.append(ContentError(f"{where}.role", NOT_ASSISTANT))
    error = raw.get("error")
    if error is not None and not (
        isinstance(error, dict) and isinstance(error.get("message"), str)
    ):
        errors.append(ContentError("error", ERROR_OBJECT))
    if (
        response is None
        and error is None
        and not any(e.path.startswith("response") for e in errors)
    ):
        errors.append(ContentError("response", NEEDS_RESPONSE_OR_ERROR))
    if "model" not in row and not any(e.path == "model" for e in errors):
        errors.append(ContentError("model", MODEL_REQUIRED))

    tags = raw.get("tags", [])
    if not isinstance(tags, list) or len(tags) > MAX_TAGS:
        errors.append(ContentError("tags", TAGS_LIST))
    else:
        for i, tag in enumerate(tags):
            if not isinstance(tag, str) or not TAG.fullmatch(tag):
                errors.append(ContentError(f"tags[{i}]", BAD_TAG))
    metadata = raw.get("metadata", {})
    meta_errors = (
        []
        if type(metadata) is dict and all(map(is_metadata_key, metadata))
        else _prefixed(
            [
                e
                for e in _validate(
                    {"messages": [{"role": "user", "content": ""}], "metadata": metadata}
                )
                if e.path.startswith("metadata")
            ],
            "metadata",
            "metadata",
        )
    )
    errors += meta_errors
    if not meta_errors and len(orjson.dumps(metadata)) > MAX_METADATA_BYTES:
        errors.append(ContentError("metadata", METADATA_TOO_LARGE))
    latency = raw.get("latency_ms")
    if latency is not None and not _count(latency):
        errors.append(ContentError("latency_ms", COUNT))
    trace = raw.get("trace_id", "")
    if trace is None:
        trace = ""
    if not isinstance(trace, str) or len(trace) > MAX_TRACE:
        errors.append(ContentError("trace_id", TRACE))
    stamp = raw.get("timestamp")
    when = None
    if stamp is not None:
        when = _timestamp(stamp)
        if when is None:
            errors.append(ContentError("timestamp", TIMESTAMP))

    if errors:
        seen: set = set()
        unique = [e for e in errors if not (e in seen or seen.add(e))]
        return None, sorted(unique, key=lambda e: e.path)
    return _row(row, messages, tools, response, error, tags, metadata, latency, trace, when, redact)


def _row(row, messages, tools, response, error, tags, metadata, latency, trace, when, redact):
    """The stored fields of a valid entry: ``row`` (model, usage) completed."""
    redactions: dict[str, int] = {}
    if redact:
        messages, response, metadata, error, redactions = redact_log(
            messages=messages, response=response, metadata=metadata, error=error
        )
    tools = tools or None
    conversation = list(messages) + ([response] if response is not None else [])
    row.update(
        messages=messages,
        tools=tools,
        response=response,
        error=error,
        tags=list(dict.fromkeys(tags)),
        metadata=metadata,
        latency_ms=latency,
        trace_id=trace,
        client_timestamp=when,
        content_hash=content_hash(conversation, tools),
        search_text=conversation_text(conversation),
        redactions=redactions,
    )
    for name in USAGE_FIELDS:
        row.setdefault(name, None)
    return row, []


MAX_META_VALUE = 200


def metadata_value(value) -> str | None:
    """A scalar metadata value as the text ``?metadata.<key>=`` compares with (strings as they
    are, numbers and booleans in JSON, ``null``); None for objects, lists and long strings,
    which are stored but not filterable."""
    if type(value) is str:
        return value if len(value) <= MAX_META_VALUE else None
    if value is None or type(value) in (bool, int, float):
        return orjson.dumps(value).decode()
    return None


def metadata_terms(metadata: dict) -> list[tuple[str, str]]:
    """The filterable ``(key, value)`` pairs of a log's metadata (top level only)."""
    out = []
    for key, value in metadata.items():
        text = metadata_value(value)
        if text is not None:
            out.append((key, text))
    return out


def conversation_text(messages) -> str:
    """The text of the turns, case-folded: what ``?search=`` looks in."""
    return "\n".join(
        m["content"] for m in messages if isinstance(m, dict) and isinstance(m.get("content"), str)
    ).casefold()


def _timestamp(value) -> datetime | None:
    if not isinstance(value, str) or len(value) > 40:
        return None
    try:
        when = datetime.fromisoformat(
            value.replace("Z", "+00:00") if value.endswith("Z") else value
        )
    except ValueError:
        return None
    return when if when.tzinfo is not None else None
