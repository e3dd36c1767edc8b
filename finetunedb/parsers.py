"""The API's JSON body parser: refuses what Python's ``json`` would silently accept.

DRF's own parser uses ``json.loads``: a nesting bomb raises ``RecursionError`` (a 500), and
``\\u0000``, lone surrogates and duplicate keys get through to the services — the first two then
fail at the database or at hashing. Bodies are parsed by the import pipeline's strict parser
instead, so the API and imports accept exactly the same JSON.
"""

from __future__ import annotations

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from datasets_app.formats.errors import Limits, RowError
from datasets_app.formats.jsonparse import parse_json

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
        value = parse_json(data, 1, Limits().max_depth)
        if isinstance(value, RowError):
            raise ParseError(BODY_ERROR.format(message=value.message), code=value.code)
        return value
