"""The API's JSON body parser: refuses what Python's ``json`` would silently accept.

DRF's own parser uses ``json.loads``: a nesting bomb raises ``RecursionError`` (a 500), and
``\\u0000``, lone surrogates and duplicate keys get through to the services — the first two then
fail at the database or at hashing. Bodies are parsed by the project's strict parser,
``finetunedb.strictjson``, which imports re-use, so the API and imports accept exactly the same
JSON.
"""

from __future__ import annotations

from django.conf import settings
from rest_framework import serializers
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from .strictjson import DEFAULT_MAX_DEPTH, RowError, parse_json

BODY_ERROR = "The request body is not acceptable JSON: {message}"
UNREADABLE = "The request body is not valid {charset} text."


class StrictJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        charset = parser_context.get("encoding", settings.DEFAULT_CHARSET).lower()
        data = stream.read()
        if charset.replace("-", "") not in ("utf8", "ascii"):
            try:
                data = data.decode(charset).encode("utf-8", "surrogatepass")
            except (LookupError, UnicodeError):
                raise ParseError(UNREADABLE.format(charset=charset)) from None
        value = parse_json(data, 1, DEFAULT_MAX_DEPTH)
        if isinstance(value, RowError):
            raise ParseError(BODY_ERROR.format(message=value.message), code=value.code)
        return value


FIELD_NOT_JSON = "{field}: not acceptable JSON: {message}"


def json_text_parse(text, *, field: str):
    """A JSON document a user sent as text (a form field, a multipart part, a query value),
    through the same strict parser as bodies: deep nesting, duplicate keys and integers past
    64 bits raise an ``ApplicationError`` (400) naming ``field`` — never a RecursionError."""
    from finetunedb.exceptions import ApplicationError

    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    value = parse_json(text, 1, DEFAULT_MAX_DEPTH)
    if isinstance(value, RowError):
        message = FIELD_NOT_JSON.format(field=field, message=value.message)
        raise ApplicationError(message, errors=[{"path": field, "message": value.message}])
    return value


class StrictJSONField(serializers.JSONField):
    """DRF's JSONField reads a form or multipart value with ``json.loads`` (deep nesting → 500);
    this one reads it with :func:`json_text_parse`. Use it for every writable JSON field."""

    def to_internal_value(self, data):
        if self.binary or getattr(data, "is_json_string", False):
            from finetunedb.exceptions import ApplicationError

            try:
                return json_text_parse(data, field=self.field_name or "value")
            except ApplicationError as exc:
                raise serializers.ValidationError(exc.errors[0]["message"]) from None
        return super().to_internal_value(data)
