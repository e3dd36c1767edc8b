"""The check engine: pure rules over plain example content (no Django).

Entry points: :func:`check_example` (one example, < 50 ms), :func:`summarize_example` +
:func:`check_dataset` (dataset rules over small per-example records), :func:`build_report`
(everything, tokenizing each example once) and :func:`apply_fixes` (safe fixes with a preview).
"""

from datasets_app.checks.catalog import RULES, get_rule
from datasets_app.checks.dataset import check_dataset
from datasets_app.checks.example import check_example
from datasets_app.checks.fixes import FIXES, Change, FixResult, apply_fixes
from datasets_app.checks.registry import Finding, Rule, Scope, Severity
from datasets_app.checks.report import CheckReport, ExampleInput, build_report
from datasets_app.checks.settings import DEFAULT_SETTINGS, CheckSettings
from datasets_app.checks.summary import AnswerStyle, ExampleSummary, answer_style, summarize_example

__all__ = [
    "DEFAULT_SETTINGS",
    "FIXES",
    "RULES",
    "AnswerStyle",
    "Change",
    "CheckReport",
    "CheckSettings",
    "ExampleInput",
    "ExampleSummary",
    "Finding",
    "FixResult",
    "Rule",
    "Scope",
    "Severity",
    "answer_style",
    "apply_fixes",
    "build_report",
    "check_dataset",
    "check_example",
    "get_rule",
    "summarize_example",
]
