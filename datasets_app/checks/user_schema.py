"""A user's JSON Schema (the dataset setting ``assistant_json_schema``), refused when it could
reach outside itself or work without bound.

jsonschema's default resolver fetches any ``$ref`` it does not hold (http(s) and ``file:`` URLs:
SSRF, local file reads, a hung request), and matches patterns with Python's backtracking ``re``
(ReDoS). :func:`schema_problems` refuses, with the JSON path of each problem:

- a ``$ref``/``$dynamicRef`` that does not start with ``#``, does not resolve inside the schema,
  or lands anywhere but on a subschema;
- ``$id`` or ``$schema`` below the root, a ``$schema`` other than a dialect shipped offline;
- over MAX_SCHEMA_BYTES serialized, MAX_SCHEMA_DEPTH nested or MAX_SCHEMA_OBJECTS objects;
  numbers JSON cannot store exactly;
- anything the 2020-12 meta-schema refuses; a ``pattern``/``patternProperties`` key RE2 cannot
  compile or that repeats too much to match quickly (:mod:`.user_regex`);
- a reference cycle that never descends into the answer (``{"$ref": "#"}``), and more than
  MAX_IN_PLACE subschemas applying to one value (nested ``allOf``/``anyOf``/``$ref`` multiply).

:mod:`.answer_schema` applies what passes, with a registry that refuses to retrieve anything;
stored settings predate these rules, so it refuses them again at use.
"""

from __future__ import annotations

import math

import orjson
import referencing
import referencing.exceptions
from jsonschema import Draft202012Validator
from referencing.jsonschema import DRAFT202012

from datasets_app.checks.user_regex import re2_error

MAX_SCHEMA_BYTES = 64 * 1024
MAX_SCHEMA_DEPTH = 64  # nested objects and arrays
# The meta-schema check costs about 1 ms per object on a 2-core machine; real answer schemas
# hold tens of them.
MAX_SCHEMA_OBJECTS = 500
MAX_IN_PLACE = 1_000  # subschemas (allOf/anyOf/oneOf/not/if/then/else/$ref...) on one value
INT64_MIN, UINT64_MAX = -(2**63), 2**64 - 1
DIALECTS = frozenset(
    {
        "https://json-schema.org/draft/2020-12/schema",
        "https://json-schema.org/draft/2019-09/schema",
        *(f"http://json-schema.org/draft-0{n}/schema{end}" for n in (4, 6, 7) for end in ("", "#")),
    }
)

NOT_OBJECT = "must be a JSON object"
TOO_LARGE = f"is over {MAX_SCHEMA_BYTES // 1024} KiB serialized"
TOO_DEEP = f"nests deeper than {MAX_SCHEMA_DEPTH} levels"
TOO_MANY_OBJECTS = f"holds more than {MAX_SCHEMA_OBJECTS} objects"
BAD_NUMBER = "numbers must be finite and integers fit in 64 bits"
NOT_VALID = "not a valid JSON Schema: {message}"
REMOTE_REF = "only references inside this schema are allowed (starting with #); got {ref!r}"
UNRESOLVED_REF = "reference {ref!r} does not resolve inside this schema"
NOT_A_SUBSCHEMA = "reference {ref!r} must point at a subschema"
REF_CYCLE = "reference {ref!r} leads back here without descending into the answer"
NESTED_ID = "$id is allowed only at the root (embedded resources are not supported)"
NESTED_DIALECT = "$schema is allowed only at the root"
UNKNOWN_DIALECT = "$schema must be one of: " + ", ".join(sorted(DIALECTS))
TOO_MANY_IN_PLACE = (
    f"applies more than {MAX_IN_PLACE} subschemas to one value (through allOf, anyOf, oneOf, "
    "not, if/then/else, dependentSchemas and references)"
)

# Keywords whose value is a subschema, a list of them, or an object of them (2020-12, plus the
# older spellings the meta-schema still validates as subschemas).
_ONE = (
    "additionalProperties",
    "propertyNames",
    "items",
    "contains",
    "not",
    "if",
    "then",
    "else",
    "unevaluatedItems",
    "unevaluatedProperties",
)
_MANY = ("allOf", "anyOf", "oneOf", "prefixItems")
_MAP = ("properties", "patternProperties", "dependentSchemas", "$defs", "definitions")
# Applied to the same value (no descent into the answer): what can loop or multiply.
_IN_PLACE_ONE = ("not", "if", "then", "else")
_IN_PLACE_MANY = ("allOf", "anyOf", "oneOf")
_REFS = ("$ref", "$dynamicRef")


def _refuse_retrieval(uri: str):
    raise referencing.exceptions.NoSuchResource(ref=uri)


OFFLINE_REGISTRY = referencing.Registry(retrieve=_refuse_retrieval)
_META = Draft202012Validator(Draft202012Validator.META_SCHEMA, format_checker=None)


def json_path(parts) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _problem(parts, message: str) -> dict:
    return {"path": json_path(parts), "message": message}


def schema_problems(schema) -> list[dict]:
    """What makes ``schema`` unsafe or invalid, as ``{"path", "message"}`` (path relative to the
    schema, "" for its root); an empty list means it may be applied."""
    return analyse(schema)[0]


def analyse(schema) -> tuple[list[dict], dict | None]:
    """``(problems, the schema to build the validator from)``."""
    if not isinstance(schema, dict):
        return [_problem((), NOT_OBJECT)], None
    problems = _shape_problems(schema)
    if problems:
        return problems, None
    if len(orjson.dumps(schema)) > MAX_SCHEMA_BYTES:
        return [_problem((), TOO_LARGE)], None
    meta = sorted(_META.iter_errors(schema), key=lambda e: list(map(str, e.absolute_path)))
    if meta:
        return [
            _problem(e.absolute_path, NOT_VALID.format(message=e.message[:200])) for e in meta[:5]
        ], None
    dialect = schema.get("$schema")
    if dialect is not None and dialect not in DIALECTS:
        return [_problem(("$schema",), UNKNOWN_DIALECT)], None
    # Every subschema is read as 2020-12; a $schema would switch jsonschema's class mid-way.
    root = {k: v for k, v in schema.items() if k != "$schema"}
    nodes = _subschemas(root)
    problems = [*_keyword_problems(root, nodes), *_reference_problems(root, nodes)]
    return problems, (None if problems else root)


def _shape_problems(schema) -> list[dict]:
    # Iterative: a deep document must not exhaust the stack here (or in orjson, capped at 255).
    stack = [(schema, (), 1)]
    objects = 0
    while stack:
        node, parts, depth = stack.pop()
        if isinstance(node, (dict, list)):
            if depth > MAX_SCHEMA_DEPTH:
                return [_problem(parts, TOO_DEEP)]
            objects += isinstance(node, dict)
            if objects > MAX_SCHEMA_OBJECTS:
                return [_problem((), TOO_MANY_OBJECTS)]
            items = node.items() if isinstance(node, dict) else enumerate(node)
            stack.extend((value, (*parts, key), depth + 1) for key, value in items)
        elif isinstance(node, float) and not math.isfinite(node):
            return [_problem(parts, BAD_NUMBER)]
        elif (
            isinstance(node, int)
            and not isinstance(node, bool)
            and not INT64_MIN <= node <= UINT64_MAX
        ):
            return [_problem(parts, BAD_NUMBER)]
    return []


def _subschemas(root: dict) -> dict[int, tuple]:
    """id → (subschema, path) of every object in a subschema position (the meta-schema has
    checked the shapes; booleans are subschemas too but cannot refer or match anything)."""
    nodes: dict[int, tuple] = {}
    stack = [(root, ())]
    while stack:
        node, parts = stack.pop()
        if not isinstance(node, dict) or id(node) in nodes:
            continue
        nodes[id(node)] = (node, parts)
        for key in _ONE:
            if key in node:
                stack.append((node[key], (*parts, key)))
        for key in _MANY:
            if isinstance(node.get(key), list):
                stack.extend((v, (*parts, key, i)) for i, v in enumerate(node[key]))
        for key in (*_MAP, "dependencies"):
            if isinstance(node.get(key), dict):
                stack.extend((v, (*parts, key, k)) for k, v in node[key].items())
    return nodes


def _keyword_problems(root: dict, nodes: dict):
    for node, parts in nodes.values():
        if parts and "$id" in node:
            yield _problem((*parts, "$id"), NESTED_ID)
        if parts and "$schema" in node:
            yield _problem((*parts, "$schema"), NESTED_DIALECT)
        if "pattern" in node and (error := re2_error(node["pattern"])):
            yield _problem((*parts, "pattern"), error)
        for key in node.get("patternProperties", {}):
            if error := re2_error(key):
                yield _problem((*parts, "patternProperties", key), error)


def _reference_problems(root: dict, nodes: dict):
    resolver = OFFLINE_REGISTRY.resolver_with_root(DRAFT202012.create_resource(root))
    # In-place edges (subschema, path of the reference or None) from each subschema.
    edges: dict[int, list[tuple[int, tuple | None]]] = {}
    for key, (node, parts) in nodes.items():
        children = [node.get(k) for k in _IN_PLACE_ONE]
        for keyword in _IN_PLACE_MANY:
            children.extend(node.get(keyword) or ())
        children.extend((node.get("dependentSchemas") or {}).values())
        out = edges[key] = [(id(c), None) for c in children if id(c) in nodes]
        for keyword in _REFS:
            if keyword not in node:
                continue
            ref, where = node[keyword], (*parts, keyword)
            if not isinstance(ref, str) or not ref.startswith("#"):
                yield _problem(where, REMOTE_REF.format(ref=ref))
                continue
            try:
                target = resolver.lookup(ref).contents
            except Exception:  # referencing raises several kinds for a malformed fragment
                yield _problem(where, UNRESOLVED_REF.format(ref=ref))
                continue
            if isinstance(target, bool):
                continue
            if id(target) not in nodes:
                yield _problem(where, NOT_A_SUBSCHEMA.format(ref=ref))
                continue
            out.append((id(target), where))
    yield from _in_place_problems(nodes, edges)


def _in_place_problems(nodes: dict, edges: dict):
    """A cycle of in-place edges, or a subschema expanding to more than MAX_IN_PLACE (a
    depth-first walk; ``cost`` holds the expansion of every subschema already finished)."""
    cost: dict[int, int] = {}
    for start in nodes:
        if start in cost:
            continue
        stack = [(start, iter(edges[start]), None)]
        active = {start: 0}
        while stack:
            key, children, _ = stack[-1]
            for child, where in children:
                if child in cost:
                    continue
                if child in active:
                    # every cycle holds a reference: name one
                    vias = [via for _, _, via in stack[active[child] + 1 :]]
                    ref = next(p for p in (where, *vias) if p is not None)
                    yield _problem(ref, REF_CYCLE.format(ref=_ref_at(nodes, ref)))
                    return
                active[child] = len(stack)
                stack.append((child, iter(edges[child]), where))
                break
            else:
                stack.pop()
                del active[key]
                cost[key] = 1 + sum(cost[c] for c, _ in edges[key])
                if cost[key] > MAX_IN_PLACE:
                    yield _problem(nodes[key][1], TOO_MANY_IN_PLACE)
                    return


def _ref_at(nodes: dict, where: tuple) -> str:
    """The reference written at ``where`` (the path of a $ref or $dynamicRef keyword)."""
    for node, parts in nodes.values():
        if parts == where[:-1]:
            return node[where[-1]]
    return ""
