"""The import pipeline's JSON parser is the project's one strict parser, ``finetunedb.strictjson``
(the API's bodies use it too, so both accept exactly the same JSON); re-used here under the
pipeline's name."""

from finetunedb.strictjson import JSONDecodeError, check_value, parse_json

__all__ = ["JSONDecodeError", "check_value", "parse_json"]
