"""The jsonschema keywords a user's schema runs with: patterns matched by RE2, a linear
``uniqueItems``, and a clock every keyword reads.

jsonschema matches ``pattern``, ``patternProperties`` and the pattern part of
``additionalProperties`` and ``unevaluatedProperties`` with Python's backtracking ``re``; the
versions here are the library's own (4.26) with :func:`re2_search` in its place. Its
``uniqueItems`` falls back to comparing every pair of items; this one hashes each item once.

Every keyword call counts a step on a per-thread clock and every 32 steps reads the time, so
validation stops within a few microseconds of its deadline (:class:`OverBudget`), however the
schema's combinators multiply the work.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Mapping

from jsonschema import Draft202012Validator
from jsonschema._utils import extras_msg
from jsonschema.exceptions import ValidationError

from datasets_app.checks.user_regex import re2_search, re2_search_many


class OverBudget(Exception):  # noqa: N818 - a signal, not an error of the schema
    """Raised inside validation once the clock's deadline has passed."""


class _Clock(threading.local):
    deadline = math.inf
    steps = 0


CLOCK = _Clock()


def _tick() -> None:
    clock = CLOCK
    clock.steps += 1
    if not clock.steps & 31 and time.monotonic() > clock.deadline:
        raise OverBudget


def _budgeted(keyword):
    def run(validator, value, instance, schema):
        _tick()
        return keyword(validator, value, instance, schema)

    run.__name__ = keyword.__name__
    return run


def _matching_keys(patterns, keys: list[str]) -> set[str]:
    matched: set[str] = set()
    for pattern in patterns:
        _tick()
        matched.update(
            k for k, hit in zip(keys, re2_search_many(pattern, keys), strict=True) if hit
        )
    return matched


def pattern(validator, patrn, instance, schema):
    if validator.is_type(instance, "string") and not re2_search(patrn, instance):
        yield ValidationError(f"{instance!r} does not match {patrn!r}")


def patternProperties(validator, patternProperties, instance, schema):  # noqa: N802, N803
    if not validator.is_type(instance, "object"):
        return
    keys = list(instance)
    for patrn, subschema in patternProperties.items():
        _tick()
        for k, hit in zip(keys, re2_search_many(patrn, keys), strict=True):
            if hit:
                yield from validator.descend(instance[k], subschema, path=k, schema_path=patrn)


def _additional(instance, schema) -> set[str]:
    properties = schema.get("properties", {})
    extras = [k for k in instance if k not in properties]
    return set(extras) - _matching_keys(schema.get("patternProperties", {}), extras)


def additionalProperties(validator, aP, instance, schema):  # noqa: N802, N803
    if not validator.is_type(instance, "object"):
        return
    extras = _additional(instance, schema)
    if validator.is_type(aP, "object"):
        for extra in extras:
            yield from validator.descend(instance[extra], aP, path=extra)
    elif not aP and extras:
        if "patternProperties" in schema:
            verb = "does" if len(extras) == 1 else "do"
            joined = ", ".join(repr(each) for each in sorted(extras))
            patterns = ", ".join(repr(each) for each in sorted(schema["patternProperties"]))
            yield ValidationError(f"{joined} {verb} not match any of the regexes: {patterns}")
        else:
            error = "Additional properties are not allowed (%s %s unexpected)"
            yield ValidationError(error % extras_msg(sorted(extras, key=str)))


def _is_valid(errors) -> bool:
    return next(errors, None) is None


def _evaluated_keys(validator, instance, schema) -> set[str]:
    """The keys of ``instance`` that ``schema`` evaluates (jsonschema's
    ``find_evaluated_property_keys_by_schema``, patterns by RE2)."""
    _tick()
    if validator.is_type(schema, "boolean"):
        return set()
    keys: set[str] = set()
    for keyword in ("$ref", "$dynamicRef"):
        ref = schema.get(keyword)
        if ref is not None:
            resolved = validator._resolver.lookup(ref)
            evolved = validator.evolve(schema=resolved.contents, _resolver=resolved.resolver)
            keys |= _evaluated_keys(evolved, instance, resolved.contents)
    properties = schema.get("properties")
    if validator.is_type(properties, "object"):
        keys |= properties.keys() & instance.keys()
    for keyword in ("additionalProperties", "unevaluatedProperties"):
        subschema = schema.get(keyword)
        if subschema is not None:
            keys |= {k for k, v in instance.items() if _is_valid(validator.descend(v, subschema))}
    if "patternProperties" in schema:
        keys |= _matching_keys(schema["patternProperties"], list(instance))
    for key, subschema in schema.get("dependentSchemas", {}).items():
        if key in instance:
            keys |= _evaluated_keys(validator, instance, subschema)
    for keyword in ("allOf", "oneOf", "anyOf"):
        for subschema in schema.get(keyword, []):
            if _is_valid(validator.descend(instance, subschema)):
                keys |= _evaluated_keys(validator, instance, subschema)
    if "if" in schema:
        if validator.evolve(schema=schema["if"]).is_valid(instance):
            keys |= _evaluated_keys(validator, instance, schema["if"])
            if "then" in schema:
                keys |= _evaluated_keys(validator, instance, schema["then"])
        elif "else" in schema:
            keys |= _evaluated_keys(validator, instance, schema["else"])
    return keys


def unevaluatedProperties(validator, unevaluatedProperties, instance, schema):  # noqa: N802, N803
    if not validator.is_type(instance, "object"):
        return
    evaluated = _evaluated_keys(validator, instance, schema)
    unevaluated = []
    for key in instance:
        if key not in evaluated and not _is_valid(
            validator.descend(instance[key], unevaluatedProperties, path=key, schema_path=key)
        ):
            unevaluated.append(key)
    if unevaluated:
        if unevaluatedProperties is False:
            error = "Unevaluated properties are not allowed (%s %s unexpected)"
            yield ValidationError(error % extras_msg(sorted(unevaluated, key=str)))
        else:
            error = (
                "Unevaluated properties are not valid under the given schema "
                "(%s %s unevaluated and invalid)"
            )
            yield ValidationError(error % extras_msg(unevaluated))


def _equality_key(value):
    # JSON Schema equality: 1 == 1.0, true is not 1, objects ignore key order.
    if value is True or value is False or value is None:
        return (0, value)
    if isinstance(value, (int, float, str)):
        return (1, value)
    if isinstance(value, Mapping):
        return (2, frozenset((k, _equality_key(v)) for k, v in value.items()))
    return (3, tuple(_equality_key(v) for v in value))


def uniqueItems(validator, uI, instance, schema):  # noqa: N802, N803
    if not uI or not validator.is_type(instance, "array"):
        return
    seen = set()
    for item in instance:
        key = _equality_key(item)
        if key in seen:
            yield ValidationError(f"{instance!r} has non-unique elements")
            return
        seen.add(key)


_OWN = {
    "pattern": pattern,
    "patternProperties": patternProperties,
    "additionalProperties": additionalProperties,
    "unevaluatedProperties": unevaluatedProperties,
    "uniqueItems": uniqueItems,
}
KEYWORDS = {
    name: _budgeted(_OWN.get(name, keyword))
    for name, keyword in Draft202012Validator.VALIDATORS.items()
}
