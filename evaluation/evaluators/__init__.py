"""Evaluators: pure functions over (prompt, reference, output) → :class:`Score` (no Django).

``evaluators_build(specs)`` validates a suite's ``[{"type", "params"}]`` strictly and returns
ready evaluators; the types are registered by importing their modules below.
"""

from . import judge, numbers, overlap, structured, text  # noqa: F401  (registers the types)
from .registry import (
    Evaluator,
    EvaluatorSpecError,
    Item,
    Param,
    Score,
    evaluator_build,
    evaluator_types,
    evaluators_build,
)

__all__ = [
    "Evaluator",
    "EvaluatorSpecError",
    "Item",
    "Param",
    "Score",
    "evaluator_build",
    "evaluator_types",
    "evaluators_build",
]
