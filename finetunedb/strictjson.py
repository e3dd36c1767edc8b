"""Parse one JSON document with orjson, refusing what Python's json would silently accept.

The one strict JSON parser of the project: the API's body parser (``finetunedb/parsers.py``),
JSON text fields, and every row of an import (``datasets_app/formats/``, which re-uses it) go
through :func:`parse_json`, so the API and imports accept exactly the same JSON. Pure: it
imports nothing of Django or of the apps, so the lowest layer may use it.

orjson already rejects NaN/Infinity, lone surrogates and invalid UTF-8; we translate its messages
into stable codes. It silently keeps the last of duplicate keys and accepts ``\\u0000`` and deep
nesting up to 1024 levels, so those three are checked here, cheaply on the common path:

* duplicates: every key occurrence in the text owns exactly one structural ``:``. Counting ``:``
  in the raw text (plus ``\\u003a`` escapes) can only equal the count in orjson's re-serialisation
  when no key was dropped; only when the counts differ do we walk the text with ``json`` to name
  the key (a false alarm, e.g. a literal ``\\\\u003a``, is cleared by that walk).
* depth: the number of ``[`` and ``{`` bytes bounds the depth; only rows with more than the cap
  are measured exactly, iteratively (never recursion).
* NUL: orjson writes a NUL as ``\\u0000``; only when that appears do we look at the strings.

A refusal is a :class:`RowError` (1-based line, stable code, a message a person can act on);
the codes and messages of JSON-level refusals are defined here, and the import pipeline's own
(``datasets_app/formats/errors.py``) re-exports them next to the rest.
"""

from __future__ import annotations

import json
from typing import NamedTuple

import orjson

# nesting of arrays and objects in one document (the import's ``Limits.max_depth`` default too)
DEFAULT_MAX_DEPTH = 64


class RowError(NamedTuple):
    """One line that did not become an example: 1-based ``line``, stable ``code``, advice."""

    line: int
    code: str
    message: str
    path: str | None = None

    def as_dict(self) -> dict:
        return {"line": self.line, "code": self.code, "message": self.message, "path": self.path}


def error(line: int, code: str, template: str, *args, path: str | None = None) -> RowError:
    return RowError(line, code, template.format(*args), path)


INVALID_JSON = "invalid_json"
INVALID_UTF8 = "invalid_utf8"
TOO_DEEP = "too_deep"
NAN_NOT_ALLOWED = "nan_not_allowed"
DUPLICATE_KEY = "duplicate_key"
LONE_SURROGATE = "lone_surrogate"
NUL_CHARACTER = "nul_character"
INTEGER_OUT_OF_RANGE = "integer_out_of_range"

MSG_INVALID_JSON = "This line is not valid JSON ({}). Each line must hold one JSON object."
MSG_INVALID_JSON_ELEMENT = "This array element is not valid JSON ({})."
MSG_INVALID_UTF8 = "This line is not valid UTF-8 (byte {} of the line). Save the file as UTF-8."
MSG_TOO_DEEP = "Arrays and objects are nested more than {} levels deep here. Flatten the row."
MSG_NAN = (
    "NaN, Infinity and numbers too large for a double are not valid JSON. Use null or a string."
)
MSG_DUPLICATE_KEY = (
    "The key {!r} appears twice in the same object; only one value can be kept. Remove one."
)
MSG_LONE_SURROGATE = (
    "A \\u escape encodes half of a UTF-16 surrogate pair, which is not text. Fix the escape."
)
MSG_NUL = "Text may not contain the NUL character (\\u0000). Remove it."
MSG_INTEGER_OUT_OF_RANGE = (
    "A number here is an integer too large for 64 bits; it would be stored inexactly. "
    "Write it as a string."
)

_loads = orjson.loads
_dumps = orjson.dumps
JSONDecodeError = orjson.JSONDecodeError
# orjson turns integers beyond 64 bits into floats without a word; only a run of 19+ digits can
# be such an integer, so only then is the text re-read to find out. The run is looked for by
# mapping every digit to "0" and everything else to " " and searching for 19 zeros: C's memmem
# over the translated bytes, ten times faster than a regex scan of a 1 MB body.
_DIGITS_AS_ZEROS = bytes(48 if 48 <= i <= 57 else 32 for i in range(256))
_NINETEEN_DIGITS = b"0" * 19
_INT64 = (-(2**63), 2**64 - 1)
_DEEP_LINE = b"  "  # times the cap, after a newline: see check_value
_LARGE = 64 * 1024  # bytes: past this, check_value takes the bracket bound as exceeded


class _BigInteger(Exception):
    pass


def _parse_int_in_range(text: str) -> int:
    value = int(text)
    if not _INT64[0] <= value <= _INT64[1]:
        raise _BigInteger(text)
    return value


class _Duplicate(Exception):
    def __init__(self, key: str):
        self.key = key


def parse_json(data: bytes | str, line: int, max_depth: int, element: bool = False):
    """Return the parsed value, or a :class:`RowError` saying why the document is refused."""
    try:
        value = _loads(data)
    except JSONDecodeError as exc:
        return _diagnose(data, exc, line, max_depth, element)
    if type(value) is dict or type(value) is list:
        problem = check_value(data, value, line, max_depth)
        if problem is not None:
            return problem
    elif type(value) is str and "\x00" in value:
        return error(line, NUL_CHARACTER, MSG_NUL)
    return value


def check_value(data: bytes | str, value, line: int, max_depth: int):
    """The checks orjson does not do, for an already parsed container; None when it is fine."""
    raw = data.encode() if type(data) is str else data
    # A large document (a log batch) is always past the bracket bound: counting its brackets
    # is two passes over it (0.6 ms of 1.2 MB) that decide nothing, so it goes straight on.
    if len(raw) > _LARGE or raw.count(b"[") + raw.count(b"{") > max_depth:
        # Indented, a line is indented 2 spaces per level, and a child of a container at the
        # cap sits on a line of 2 x cap spaces (strings hold no raw newline); only then is the
        # depth measured exactly. One dump serves this and the checks below (same colons):
        # a whole batch of 1,000 logs exceeds the bracket bound, and walking it cost 2.7 ms.
        dumped = _dumps(value, option=orjson.OPT_INDENT_2)
        if b"\n" + _DEEP_LINE * max_depth in dumped and _depth_exceeds(value, max_depth):
            return error(line, TOO_DEEP, MSG_TOO_DEEP, max_depth)
    else:
        dumped = _dumps(value)
    raw_colons = raw.count(b":")
    # One search for both escapes that matter (a colon and NUL are \\u003a and \\u0000): a
    # NUL in a parsed string can only come from that escape (orjson refuses a raw one).
    escaped = b"\\u00" in raw
    if escaped and b"\\u003" in raw:
        raw_colons += raw.count(b"\\u003a") + raw.count(b"\\u003A")
    if raw_colons != dumped.count(b":"):
        key = _find_duplicate(raw)
        if key is not None:
            return error(line, DUPLICATE_KEY, MSG_DUPLICATE_KEY, key)
    if escaped and b"\\u0000" in raw and _has_nul(value):
        return error(line, NUL_CHARACTER, MSG_NUL)
    if _NINETEEN_DIGITS in raw.translate(_DIGITS_AS_ZEROS) and _has_big_integer(raw):
        return error(line, INTEGER_OUT_OF_RANGE, MSG_INTEGER_OUT_OF_RANGE)
    return None


def _has_big_integer(raw: bytes) -> bool:
    # within the depth cap already, so json's recursion is safe
    try:
        json.loads(raw, parse_int=_parse_int_in_range)
    except _BigInteger:
        return True
    return False


def _depth_exceeds(value, max_depth: int) -> bool:
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > max_depth:
            return True
        children = node.values() if type(node) is dict else node
        for child in children:
            if type(child) is dict or type(child) is list:
                stack.append((child, depth + 1))
    return False


def _has_nul(value) -> bool:
    stack = [value]
    while stack:
        node = stack.pop()
        if type(node) is str:
            if "\x00" in node:
                return True
        elif type(node) is dict:
            stack.extend(node.keys())
            stack.extend(node.values())
        elif type(node) is list:
            stack.extend(node)
    return False


def _reject_duplicates(pairs):
    seen = set()
    for key, _ in pairs:
        if key in seen:
            raise _Duplicate(key)
        seen.add(key)
    return dict(pairs)


def _find_duplicate(raw: bytes) -> str | None:
    # only reached for rows already parsed by orjson within the depth cap, so json's recursion is safe
    try:
        json.loads(raw, object_pairs_hook=_reject_duplicates)
    except _Duplicate as dup:
        return dup.key
    return None


def _diagnose(data, exc: JSONDecodeError, line: int, max_depth: int, element: bool):
    reason = str(exc).split(":", 1)[0]
    if "not valid UTF-8" in reason:
        raw = data if isinstance(data, bytes) else data.encode("utf-8", "surrogatepass")
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as bad:
            return error(line, INVALID_UTF8, MSG_INVALID_UTF8, bad.start + 1)
        return error(line, LONE_SURROGATE, MSG_LONE_SURROGATE)
    if "surrogate" in reason:
        return error(line, LONE_SURROGATE, MSG_LONE_SURROGATE)
    if "depth limit" in reason or "recursion" in reason:
        return error(line, TOO_DEEP, MSG_TOO_DEEP, max_depth)
    if "infinity" in reason or "NaN" in reason:
        return error(line, NAN_NOT_ALLOWED, MSG_NAN)
    doc = exc.doc if isinstance(exc.doc, str) else ""
    at = doc[exc.pos : exc.pos + 9]
    if at.startswith(("NaN", "Infinity", "-Infinity", "Infinity")) or (
        "no digit after sign" in reason and at.startswith("Infinity")
    ):
        return error(line, NAN_NOT_ALLOWED, MSG_NAN)
    if "control character" in reason and at[:1] == "\x00":
        return error(line, NUL_CHARACTER, MSG_NUL)
    template = MSG_INVALID_JSON_ELEMENT if element else MSG_INVALID_JSON
    return error(line, INVALID_JSON, template, str(exc))
