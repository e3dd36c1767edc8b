"""The freeze's coverage gate: the dataset setting ``coverage_gate`` (off, warn, block) read by
the one freeze service through datasets_app's gate registry (SemanticConfig.ready registers
:func:`coverage_freeze_gate`)."""

from __future__ import annotations

from datasets_app.models import Dataset

from ..models import CoverageTarget
from .coverage import coverage_plan_status

UNMET = "Coverage plan not met: {targets}."


def _gap_text(t: dict) -> str:
    has = "n/a" if t["actual_share"] is None else f"{t['actual_share']:g}%"
    if t["state"] == "unavailable":
        return f"{t['describe']} (topics not available)"
    if t["state"] == "under":
        need = "cannot be reached by adding" if t["add"] is None else f"add {t['add']}"
        return f"{t['describe']} (has {has}; {need})"
    return f"{t['describe']} (has {has}; remove {t['remove']})"


def coverage_freeze_gate(dataset: Dataset) -> list[dict]:
    """The freeze gate (registered in SemanticConfig.ready): nothing when the dataset's
    ``coverage_gate`` is off or the plan is met; else one finding naming the unmet targets,
    blocking when the setting is ``block``."""
    gate = dataset.effective_settings.get("coverage_gate", "off")
    if gate not in ("warn", "block") or not CoverageTarget.objects.filter(dataset=dataset).exists():
        return []
    unmet = [t for t in coverage_plan_status(dataset=dataset)["targets"] if t["state"] != "met"]
    if not unmet:
        return []
    return [
        {
            "rule_id": "coverage_plan",
            "count": len(unmet),
            "message": UNMET.format(targets="; ".join(_gap_text(t) for t in unmet)),
            "example_ids": [],
            "targets": [t["id"] for t in unmet],
            "blocks": gate == "block",
        }
    ]
