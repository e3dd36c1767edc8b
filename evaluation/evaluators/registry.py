"""The evaluator registry: ``type`` → evaluator, with a strict parameter schema (no Django).

A suite stores its evaluators as ``[{"type": ..., "params": {...}}]``. :func:`evaluators_build`
turns that into ready evaluators or raises :class:`EvaluatorSpecError` naming the field
(``evaluators[1].params.pattern``): an unknown type, an unknown parameter, a missing one, a value
of the wrong type or out of its bounds, a regex RE2 refuses, a schema with remote references.
Booleans are never accepted as numbers, and integers are accepted where a float is asked.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

UNKNOWN_TYPE = "unknown evaluator type {type!r}; one of: {known}"
UNKNOWN_PARAM = "unknown parameter {name!r}; this evaluator takes: {known}"
MISSING_PARAM = "is required"
WRONG_TYPE = "must be {kind}"
BELOW = "must be at least {minimum}"
ABOVE = "must be at most {maximum}"
NOT_A_CHOICE = "must be one of: {choices}"
NOT_A_LIST = "must be a list of evaluators, each {type, params}"
NOT_AN_OBJECT = "must be an object {type, params}"
SPEC_KEYS = "an evaluator takes only 'type' and 'params'"
EMPTY = "add at least one evaluator"
TOO_MANY = "at most {maximum} evaluators per suite"
DUPLICATE_NAME = "two evaluators are named {name!r}; give one a different 'name' parameter"
MAX_EVALUATORS = 20
MAX_TEXT = 4_000
REQUIRED = object()

_KIND_NAMES = {
    str: "text",
    int: "an integer",
    float: "a number",
    bool: "true or false",
    list: "a list of texts",
    dict: "a JSON object",
}


class EvaluatorSpecError(ValueError):
    """A suite's evaluator list is refused; ``path`` names the field, ``message`` says why.
    Pure: the service maps it to its ApplicationError (400 naming the field)."""

    def __init__(self, path: str, message: str):
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message


@dataclass(frozen=True)
class Param:
    """One parameter: its type, default (REQUIRED when it has none), bounds and an extra check
    returning a message or None (``check`` may raise EvaluatorSpecError for a nested path)."""

    kind: type
    default: Any = REQUIRED
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple | None = None
    max_length: int = MAX_TEXT
    check: Callable[[Any, str], str | None] | None = None
    help: str = ""


@dataclass(frozen=True)
class Score:
    """One evaluator's verdict on one item. ``value`` in [0, 1], or None when the item could not
    be scored (``reason`` says why, e.g. ``judge_error``); such items count in no mean."""

    value: float | None
    passed: bool
    detail: dict = field(default_factory=dict)
    reason: str = ""

    def as_dict(self) -> dict:
        out = {"value": self.value, "passed": self.passed, "detail": self.detail}
        if self.reason:
            out["reason"] = self.reason
        return out


def scored(passed: bool, **detail) -> Score:
    return Score(1.0 if passed else 0.0, passed, detail)


def unscored(reason: str, **detail) -> Score:
    return Score(None, False, detail, reason)


@dataclass(frozen=True)
class Item:
    """What an evaluator sees: the prompt (the conversation before the answer, as text), the
    reference answer (None when the item has none) and the model's output."""

    prompt: str
    reference: str | None
    output: str


class Evaluator:
    """Subclasses set ``type``, ``params`` and implement :meth:`score`. ``self.p`` holds the
    validated parameters (defaults filled in); ``name`` is how results and metrics call it."""

    type: str = ""
    params: dict[str, Param] = {}
    needs_judge = False
    needs_reference = False

    def __init__(self, params: dict):
        self.p = params
        self.name = params.get("name") or self.type

    def score(self, item: Item) -> Score:  # pragma: no cover - every subclass overrides it
        raise NotImplementedError

    def spec(self) -> dict:
        return {"type": self.type, "params": dict(self.p)}


_REGISTRY: dict[str, type[Evaluator]] = {}
NAME_PARAM = Param(str, default="", max_length=64, help="how metrics name it (default: type)")


def register(cls: type[Evaluator]) -> type[Evaluator]:
    if cls.type in _REGISTRY:
        raise ValueError(f"evaluator type {cls.type!r} registered twice")
    cls.params = {**cls.params, "name": NAME_PARAM}
    _REGISTRY[cls.type] = cls
    return cls


def evaluator_types() -> dict[str, type[Evaluator]]:
    return dict(_REGISTRY)


def _typed(value, param: Param, path: str):
    kind = param.kind
    ok = (isinstance(value, kind) and not (kind in (int, float) and isinstance(value, bool))) or (
        kind is float and isinstance(value, int) and not isinstance(value, bool)
    )
    if kind is list and ok:
        ok = all(isinstance(v, str) for v in value)
    if not ok:
        raise EvaluatorSpecError(path, WRONG_TYPE.format(kind=_KIND_NAMES[kind]))
    if kind is float:
        value = float(value)
        if value != value or value in (float("inf"), float("-inf")):
            raise EvaluatorSpecError(path, WRONG_TYPE.format(kind=_KIND_NAMES[kind]))
    if kind is str and len(value) > param.max_length:
        raise EvaluatorSpecError(path, ABOVE.format(maximum=f"{param.max_length} characters"))
    if kind is list:
        if len(value) > 200 or any(len(v) > param.max_length for v in value):
            raise EvaluatorSpecError(path, ABOVE.format(maximum="200 texts of 4,000 characters"))
    if param.minimum is not None and value < param.minimum:
        raise EvaluatorSpecError(path, BELOW.format(minimum=param.minimum))
    if param.maximum is not None and value > param.maximum:
        raise EvaluatorSpecError(path, ABOVE.format(maximum=param.maximum))
    if param.choices is not None and value not in param.choices:
        raise EvaluatorSpecError(path, NOT_A_CHOICE.format(choices=", ".join(param.choices)))
    if param.check is not None and (problem := param.check(value, path)):
        raise EvaluatorSpecError(path, problem)
    return value


def evaluator_build(spec, path: str = "evaluator") -> Evaluator:
    """One ``{"type", "params"}`` → its evaluator; EvaluatorSpecError naming the bad field."""
    if not isinstance(spec, dict):
        raise EvaluatorSpecError(path, NOT_AN_OBJECT)
    if set(spec) - {"type", "params"}:
        raise EvaluatorSpecError(path, SPEC_KEYS)
    kind = spec.get("type")
    cls = _REGISTRY.get(kind) if isinstance(kind, str) else None
    if cls is None:
        known = ", ".join(sorted(_REGISTRY))
        raise EvaluatorSpecError(f"{path}.type", UNKNOWN_TYPE.format(type=kind, known=known))
    raw = spec.get("params", {})
    if not isinstance(raw, dict):
        raise EvaluatorSpecError(f"{path}.params", WRONG_TYPE.format(kind="a JSON object"))
    for name in raw:
        if name not in cls.params:
            known = ", ".join(sorted(cls.params))
            raise EvaluatorSpecError(
                f"{path}.params.{name}", UNKNOWN_PARAM.format(name=name, known=known)
            )
    values = {}
    for name, param in cls.params.items():
        where = f"{path}.params.{name}"
        if name in raw:
            values[name] = _typed(raw[name], param, where)
        elif param.default is REQUIRED:
            raise EvaluatorSpecError(where, MISSING_PARAM)
        else:
            values[name] = param.default
    evaluator = cls(values)
    problem = evaluator.validate() if hasattr(evaluator, "validate") else None
    if problem:
        raise EvaluatorSpecError(f"{path}.params.{problem[0]}", problem[1])
    return evaluator


def evaluators_build(specs, path: str = "evaluators") -> list[Evaluator]:
    """A suite's list of evaluator specs → evaluators, names unique."""
    if not isinstance(specs, list):
        raise EvaluatorSpecError(path, NOT_A_LIST)
    if not specs:
        raise EvaluatorSpecError(path, EMPTY)
    if len(specs) > MAX_EVALUATORS:
        raise EvaluatorSpecError(path, TOO_MANY.format(maximum=MAX_EVALUATORS))
    built, names = [], set()
    for i, spec in enumerate(specs):
        evaluator = evaluator_build(spec, f"{path}[{i}]")
        if evaluator.name in names:
            raise EvaluatorSpecError(
                f"{path}[{i}].params.name", DUPLICATE_NAME.format(name=evaluator.name)
            )
        names.add(evaluator.name)
        built.append(evaluator)
    return built
