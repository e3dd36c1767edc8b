"""Check results in the app: stored per example and kept current, the dataset report, and the
safe fixes as a bulk action. The rules themselves are the pure :mod:`datasets_app.checks`."""

from .fixes import example_fixes_apply, example_fixes_preview
from .report import (
    dataset_report,
    example_findings,
    findings_by_turn,
    parse_cost_inputs,
    rules_for_summary,
)
from .schedule import dataset_checks_schedule, example_checks_after_change
from .store import dataset_checks_run, dataset_report_compute, example_checks_refresh

__all__ = [
    "dataset_checks_run",
    "dataset_checks_schedule",
    "dataset_report",
    "dataset_report_compute",
    "example_checks_after_change",
    "example_checks_refresh",
    "example_findings",
    "example_fixes_apply",
    "example_fixes_preview",
    "findings_by_turn",
    "parse_cost_inputs",
    "rules_for_summary",
]
