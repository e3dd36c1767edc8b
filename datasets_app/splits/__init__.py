"""Deterministic, stable, leakage-free split assignment (DESIGN §3). Pure."""

from datasets_app.splits.assign import (
    SPLITS,
    UNASSIGNED,
    SplitConfigError,
    SplitItem,
    SplitResult,
    assign_splits,
    position,
    validate_ratios,
)
from datasets_app.splits.groups import group_ids
from datasets_app.splits.leakage import LeakagePair, leakage_report

__all__ = [
    "SPLITS",
    "UNASSIGNED",
    "LeakagePair",
    "SplitConfigError",
    "SplitItem",
    "SplitResult",
    "assign_splits",
    "group_ids",
    "leakage_report",
    "position",
    "validate_ratios",
]
