"""Gates other apps add to a freeze (a registry, so datasets_app imports none of them): the
semantic layer's coverage plan is one. Each gate is ``gate(dataset) -> [finding]``, a finding
``{"rule_id", "count", "message", "example_ids", "blocks"}``: a blocking one refuses the freeze
like an error-level check does (409, unless forced with a reason); the others are recorded on
the version's check report under ``warnings``."""

from __future__ import annotations

from collections.abc import Callable

from ...models import Dataset

Gate = Callable[[Dataset], list[dict]]
_GATES: dict[str, Gate] = {}


def freeze_gate_register(gate: Gate) -> None:
    """Called from an app's ``AppConfig.ready``; registering a function again replaces it."""
    _GATES[f"{gate.__module__}.{gate.__qualname__}"] = gate


def freeze_gate_findings(dataset: Dataset) -> tuple[list[dict], list[dict]]:
    """(blocking findings, warnings) of every registered gate, without the ``blocks`` key."""
    blocking, warnings = [], []
    for gate in _GATES.values():
        for finding in gate(dataset):
            item = {k: v for k, v in finding.items() if k != "blocks"}
            (blocking if finding.get("blocks") else warnings).append(item)
    return blocking, warnings
