"""JSON evaluators: the output is strict JSON (no NaN/Infinity, no duplicate keys), and it
validates against a JSON Schema checked by the dataset settings' rules (no remote references,
RE2 patterns, bounded size; datasets_app/checks/user_schema.py). Pure: no Django."""

from __future__ import annotations

import json
import re

from datasets_app.checks.answer_schema import SchemaCheckSkipped, user_schema
from datasets_app.checks.user_schema import schema_problems

from .registry import Evaluator, EvaluatorSpecError, Item, Param, Score, register, scored

MAX_OUTPUT_CHARS = 256 * 1024
NOT_JSON = "not JSON: {why}"
DUPLICATE_KEY = "duplicate key {key!r}"
NON_FINITE = "{value} is not JSON"
TOO_DEEP = "nested too deeply"
TOO_LARGE = f"over {MAX_OUTPUT_CHARS} characters"
NOT_OBJECT = "not a JSON object"
NO_FENCE = "no ```json block"
_FENCE = re.compile(r"```(?:json|JSON)?[ \t]*\n(.*?)\n?```", re.DOTALL)


class _Refused(ValueError):
    pass


def _pairs(pairs):
    out = {}
    for key, value in pairs:
        if key in out:
            raise _Refused(DUPLICATE_KEY.format(key=key))
        out[key] = value
    return out


def _constant(name):
    raise _Refused(NON_FINITE.format(value=name))


def strict_json(text: str):
    """``(value, None)`` or ``(None, why)``: JSON as RFC 8259 has it, nothing Python adds."""
    if len(text) > MAX_OUTPUT_CHARS:
        return None, TOO_LARGE
    try:
        return json.loads(text, object_pairs_hook=_pairs, parse_constant=_constant), None
    except _Refused as exc:
        return None, str(exc)
    except RecursionError:
        return None, TOO_DEEP
    except json.JSONDecodeError as exc:
        return None, NOT_JSON.format(why=f"{exc.msg} at line {exc.lineno} column {exc.colno}")


def json_text(output: str, *, fence: str) -> tuple[str | None, str | None]:
    """The JSON text to parse: the whole output (``fence: never``), the first ```json block
    (``always``), or that block when there is one else the whole output (``optional``)."""
    if fence == "never":
        return output.strip(), None
    match = _FENCE.search(output)
    if match:
        return match.group(1).strip(), None
    if fence == "always":
        return None, NO_FENCE
    return output.strip(), None


_FENCE_PARAM = Param(str, default="optional", choices=("optional", "always", "never"))


@register
class JsonValid(Evaluator):
    """The output (or its ```json block) parses as strict JSON; ``require_object`` also asks
    for an object at the top."""

    type = "json_valid"
    params = {"fence": _FENCE_PARAM, "require_object": Param(bool, default=False)}

    def score(self, item: Item) -> Score:
        text, why = json_text(item.output, fence=self.p["fence"])
        if text is None:
            return scored(False, error=why)
        value, why = strict_json(text)
        if why:
            return scored(False, error=why)
        if self.p["require_object"] and not isinstance(value, dict):
            return scored(False, error=NOT_OBJECT)
        return scored(True)


def _schema_check(schema, path: str):
    problems = schema_problems(schema)
    if problems:
        first = problems[0]
        where = f"{path}.{first['path']}" if first["path"] else path
        raise EvaluatorSpecError(where, first["message"])
    return None


@register
class JsonSchema(Evaluator):
    """The output's JSON validates against ``schema`` (local references only, RE2 patterns,
    a time budget per answer); an answer the checker cannot judge in time is unscored."""

    type = "json_schema"
    params = {"schema": Param(dict, check=_schema_check), "fence": _FENCE_PARAM}

    def score(self, item: Item) -> Score:
        text, why = json_text(item.output, fence=self.p["fence"])
        if text is None:
            return scored(False, error=why)
        value, why = strict_json(text)
        if why:
            return scored(False, error=why)
        try:
            error = user_schema(self.p["schema"]).first_error(value)
        except SchemaCheckSkipped as exc:
            return Score(None, False, {}, str(exc))
        if error is None:
            return scored(True)
        where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
        return scored(False, error=error.message[:300], path=where or "(root)")
