"""The check report kept current from what changed: an edit costs its own scan, not the dataset's.

What a full report costs is the scan: tokenizing every example, every example rule, every
summary (:mod:`.scan`). What it derives from them — the dataset rules over the summaries, the
token statistics over the counts — is cheap next to it. A :class:`ReportState` keeps each
example's scan (its tokens, findings and summary) together with the *stamp* it was scanned at
(anything that changes when the example's content or source format changes: the service uses
the current revision id and the content hash). Given the stamps now, :meth:`ReportState.stale`
names the examples to scan again (new or changed) and those gone; :meth:`ReportState.update`
rescans only those, and :meth:`ReportState.report` derives the report again from every kept
scan, in key order. Splits are not part of a scan: the rules across splits (preference prompts
in two splits) read the ``splits`` given to :meth:`ReportState.report`, as ``build_report`` does.

The result is exactly :func:`.report.build_report` over the same examples in key order (the
property test tests/datasets_app/checks/test_incremental.py applies random edit sequences to
both), because the scan of one example depends on that example and the settings only; the
state is rebuilt when the settings differ.
"""

from __future__ import annotations

import gc
from collections import deque
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import NamedTuple

from datasets_app.checks.dataset import check_dataset
from datasets_app.checks.registry import Finding
from datasets_app.checks.report import CheckReport
from datasets_app.checks.scan import ExampleInput, scan_examples
from datasets_app.checks.settings import CheckSettings
from datasets_app.checks.summary import ExampleSummary
from datasets_app.tokens.counting import ExampleTokens
from datasets_app.tokens.stats import token_stats


class Scanned(NamedTuple):
    """One example's scan and the stamp it was taken at."""

    stamp: Hashable
    tokens: ExampleTokens | None  # None: the structure is unusable (left out of the statistics)
    findings: list[Finding]  # with example_key set
    summary: ExampleSummary | None


@dataclass
class ReportState:
    """Every example's latest scan, under one settings value."""

    settings: CheckSettings
    scanned: dict[Hashable, Scanned] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.scanned)

    def stale(self, stamps: Mapping[Hashable, Hashable]) -> tuple[list, list]:
        """``(to scan, gone)``: the keys of ``stamps`` whose scan is missing or was taken at
        another stamp, and the kept keys ``stamps`` no longer has."""
        scanned = self.scanned
        changed = [
            k for k, stamp in stamps.items() if (s := scanned.get(k)) is None or s.stamp != stamp
        ]
        gone = [k for k in scanned if k not in stamps]
        return changed, gone

    def update(
        self,
        examples: Iterable[tuple[Hashable, ExampleInput]],
        *,
        gone: Iterable[Hashable] = (),
        encoding,
    ) -> int:
        """Scan ``examples`` — ``(stamp, ExampleInput)`` pairs — replacing what was kept for
        their keys, and forget the ``gone`` keys; how many were scanned."""
        for key in gone:
            self.scanned.pop(key, None)
        # Streamed: the scan reads a chunk ahead, so the stamps wait in a queue for their scans.
        stamps: deque = deque()

        def inputs():
            for stamp, item in examples:
                stamps.append(stamp)
                yield item

        n = 0
        for key, tokens, found, summary in scan_examples(inputs(), self.settings, encoding):
            findings = [replace(f, example_key=key) for f in found] if found else []
            self.scanned[key] = Scanned(stamps.popleft(), tokens, findings, summary)
            n += 1
        return n

    def has_pairs(self) -> bool:
        """Whether any kept example is a preference pair (only then do splits matter)."""
        return any(
            s.summary is not None and s.summary.pair is not None for s in self.scanned.values()
        )

    def report(self, splits: Mapping[Hashable, str] | None = None) -> CheckReport:
        """The report over every kept scan, as :func:`build_report` gives it for the same
        examples in key order (and the same ``splits``)."""
        gc_was_enabled = gc.isenabled()
        gc.disable()  # as build_report: many small long-lived objects, no cycles
        try:
            return self._report(splits)
        finally:
            if gc_was_enabled:
                gc.enable()

    def _report(self, splits) -> CheckReport:
        example_findings: dict[Hashable, list[Finding]] = {}
        summaries: list[ExampleSummary] = []
        counts: dict[Hashable, ExampleTokens] = {}
        scanned = self.scanned
        for key in sorted(scanned):
            s = scanned[key]
            if s.tokens is not None:
                counts[key] = s.tokens
                summaries.append(s.summary)
            if s.findings:
                example_findings[key] = s.findings
        settings = self.settings
        return CheckReport(
            example_findings=example_findings,
            dataset_findings=check_dataset(summaries, settings, splits),
            token_stats=token_stats(list(counts.values()), limit=settings.target_context_tokens),
            token_counts=counts,
        )


def report_state_build(
    examples: Iterable[tuple[Hashable, ExampleInput]], settings: CheckSettings, *, encoding
) -> ReportState:
    """A state holding the scan of every ``(stamp, ExampleInput)`` pair."""
    state = ReportState(settings)
    state.update(examples, encoding=encoding)
    return state
