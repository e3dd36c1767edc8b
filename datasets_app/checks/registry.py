"""Rule, Finding and Severity: the vocabulary every check speaks.

A rule is metadata (id, severity, title, why it matters for fine-tuning, how to fix it, scope and
an optional safe automatic fix); the checks that produce its findings live in the modules named
by the rule's group. The catalog itself is :mod:`datasets_app.checks.catalog`.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from enum import StrEnum


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


SEVERITY_ORDER = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}


class Scope(StrEnum):
    EXAMPLE = "example"
    DATASET = "dataset"


@dataclass(frozen=True)
class Rule:
    id: str
    severity: Severity
    title: str
    why: str
    fix_hint: str
    scope: Scope = Scope.EXAMPLE
    autofix: str | None = None  # id of a Fix in datasets_app.checks.fixes

    def as_dict(self) -> dict:
        return {
            "id": self.id,
            "severity": str(self.severity),
            "title": self.title,
            "why": self.why,
            "fix_hint": self.fix_hint,
            "scope": str(self.scope),
            "autofix": self.autofix,
        }


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem. ``path`` is a JSON path into the example (``messages[2].content``) or None.

    Per-example findings carry ``example_key`` once the report assigns it; dataset findings list
    the examples they concern in ``example_keys`` (possibly empty) so a UI can filter to them.
    """

    rule_id: str
    severity: Severity
    message: str
    path: str | None = None
    example_key: Hashable | None = None
    details: dict | None = None
    example_keys: tuple = field(default=())

    def as_dict(self) -> dict:
        return {
            "rule_id": self.rule_id,
            "severity": str(self.severity),
            "message": self.message,
            "path": self.path,
            "example_key": self.example_key,
            "details": self.details,
            "example_keys": list(self.example_keys),
        }
