"""Applying a dataset's answer schema (checked by :mod:`.user_schema`) to answers, under a time
budget: RE2 for patterns (:mod:`.schema_keywords`), no ``format`` checks, nothing retrieved.

A stored schema that :func:`.user_schema.analyse` refuses is never applied; an answer over the
size caps or the time budget is not judged. Each case raises :class:`SchemaCheckSkipped` with a
message for the user instead of failing or stalling the check run.
"""

from __future__ import annotations

import math
import time
from functools import lru_cache

import orjson
from jsonschema import Draft202012Validator, validators

from datasets_app.checks import schema_keywords
from datasets_app.checks.user_schema import OFFLINE_REGISTRY, analyse

MAX_ANSWER_CHARS = 64 * 1024
MAX_ANSWER_DEPTH = 64
ANSWER_SECONDS = 0.05  # one answer at most ...
SCAN_SECONDS = 10.0  # ... and one scan in all this much plus SCAN_SECONDS_PER_ANSWER per answer
SCAN_SECONDS_PER_ANSWER = 0.002
SKIPPED = "schema check skipped: {reason}"
OVER_BUDGET = SKIPPED.format(reason=f"over the time budget ({ANSWER_SECONDS * 1000:.0f} ms)")
OVER_SCAN_BUDGET = SKIPPED.format(reason="over the time budget of this check run")
ANSWER_TOO_LARGE = SKIPPED.format(reason=f"the answer is over {MAX_ANSWER_CHARS} characters")
ANSWER_TOO_DEEP = SKIPPED.format(reason=f"the answer nests deeper than {MAX_ANSWER_DEPTH} levels")
CANNOT_APPLY = SKIPPED.format(reason="the schema could not be applied ({kind})")
REFUSED = SKIPPED.format(reason="the dataset's schema is refused at {path}: {message}")


class SchemaCheckSkipped(Exception):  # noqa: N818 - an outcome the check reports
    """The answer was not checked; the message says why (one of the module's constants)."""


_Validator = validators.extend(Draft202012Validator, schema_keywords.KEYWORDS)


class SchemaBudget:
    """The time the schema checks of one scan may take: ANSWER_SECONDS for one answer at most,
    and SCAN_SECONDS plus SCAN_SECONDS_PER_ANSWER per answer in all, so a schema that makes
    every answer slow costs a scan a bounded multiple of a fast one, not a stalled worker."""

    def __init__(self, seconds: float = SCAN_SECONDS):
        self.left = seconds

    def grant(self) -> float:
        self.left += SCAN_SECONDS_PER_ANSWER
        return min(ANSWER_SECONDS, self.left)

    def spend(self, seconds: float) -> None:
        self.left -= seconds


class UserSchema:
    """A user's schema ready to apply: ``problems`` (then it is never applied) or a validator."""

    def __init__(self, schema):
        self.problems, root = analyse(schema)
        self._validator = None if root is None else _Validator(root, registry=OFFLINE_REGISTRY)

    def first_error(self, value, budget: SchemaBudget | None = None):
        """The first ValidationError of ``value`` (parsed JSON), or None; raises
        SchemaCheckSkipped when the schema is refused, the answer too large or the time up."""
        if self._validator is None:
            problem = self.problems[0]
            where = problem["path"] or "(root)"
            raise SchemaCheckSkipped(REFUSED.format(path=where, message=problem["message"]))
        if _too_deep(value):
            raise SchemaCheckSkipped(ANSWER_TOO_DEEP)
        budget = budget or SchemaBudget(ANSWER_SECONDS)
        seconds = budget.grant()
        if seconds <= 0:
            raise SchemaCheckSkipped(OVER_SCAN_BUDGET)
        clock = schema_keywords.CLOCK
        start = time.monotonic()
        clock.deadline, clock.steps = start + seconds, 0
        try:
            return next(self._validator.iter_errors(value), None)
        except schema_keywords.OverBudget:
            raise SchemaCheckSkipped(OVER_BUDGET) from None
        except Exception as exc:  # a user's schema must never fail the whole check run
            raise SchemaCheckSkipped(CANNOT_APPLY.format(kind=type(exc).__name__)) from None
        finally:
            clock.deadline = math.inf
            budget.spend(time.monotonic() - start)


def _too_deep(value) -> bool:
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, (dict, list)):
            if depth > MAX_ANSWER_DEPTH:
                return True
            stack.extend(
                (v, depth + 1) for v in (node.values() if isinstance(node, dict) else node)
            )
    return False


def user_schema(schema) -> UserSchema:
    """:class:`UserSchema` of ``schema``, built once per distinct schema (a small LRU)."""
    try:
        key = orjson.dumps(schema, option=orjson.OPT_SORT_KEYS)
    except (orjson.JSONEncodeError, TypeError):
        return UserSchema(schema)  # refused: too deep or numbers out of range; cheap to redo
    return _cached(key)


@lru_cache(maxsize=32)
def _cached(key: bytes) -> UserSchema:
    return UserSchema(orjson.loads(key))
