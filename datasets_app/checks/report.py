"""The full check report in one pass: per-example findings, dataset findings, token statistics.

Each example is tokenized once; the counts feed both the length rule and the statistics.
"""

from __future__ import annotations

import gc
from collections import Counter
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field, replace

from datasets_app.checks.catalog import RULES
from datasets_app.checks.dataset import check_dataset
from datasets_app.checks.registry import SEVERITY_ORDER, Finding
from datasets_app.checks.scan import ExampleInput, scan_chunks
from datasets_app.checks.settings import DEFAULT_SETTINGS, CheckSettings
from datasets_app.checks.summary import ExampleSummary
from datasets_app.tokens.counting import ExampleTokens
from datasets_app.tokens.stats import TokenStats, token_stats


@dataclass
class CheckReport:
    example_findings: dict[Hashable, list[Finding]]
    dataset_findings: list[Finding]
    token_stats: TokenStats
    token_counts: dict[Hashable, ExampleTokens] = field(default_factory=dict)

    def counts_by_rule(self) -> dict[str, int]:
        """Per rule, the number of examples it concerns (dataset rules: their named examples, or 1)."""
        counts: Counter = Counter()
        for findings in self.example_findings.values():
            counts.update({f.rule_id for f in findings})
        for f in self.dataset_findings:
            counts[f.rule_id] += len(f.example_keys) or 1
        return dict(
            sorted(counts.items(), key=lambda kv: (SEVERITY_ORDER[RULES[kv[0]].severity], kv[0]))
        )

    def as_dict(self) -> dict:
        """JSON-ready: rules with counts, dataset findings and token statistics (not every finding)."""
        counts = self.counts_by_rule()
        return {
            "rules": [{**RULES[rule_id].as_dict(), "count": n} for rule_id, n in counts.items()],
            "dataset_findings": [f.as_dict() for f in self.dataset_findings],
            "token_stats": self.token_stats.as_dict(),
        }


def build_report(
    examples: Iterable[ExampleInput | tuple],
    settings: CheckSettings = DEFAULT_SETTINGS,
    *,
    encoding,
    splits: Mapping[Hashable, str] | None = None,
) -> CheckReport:
    """Check every example and the dataset; ``examples`` yields ``(key, content[, source_format[, content_hash]])``.
    ``splits`` (key -> split) is read by the dataset rules that look across splits.

    Examples whose structure is unusable get their structure findings and are left out of the
    token statistics and the dataset rules (their counts would be meaningless).
    """
    # The report allocates a few small long-lived objects per example; generational GC passes over
    # a large dataset then cost a fifth of the run for nothing (no cycles are created here).
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _build(examples, settings, encoding, splits)
    finally:
        if gc_was_enabled:
            gc.enable()


def _build(examples, settings: CheckSettings, encoding, splits=None) -> CheckReport:
    example_findings: dict[Hashable, list[Finding]] = {}
    summaries: list[ExampleSummary] = []
    counts: dict[Hashable, ExampleTokens] = {}
    for keys, tokens, findings, chunk_summaries in scan_chunks(examples, settings, encoding):
        for key, counted, found, summary in zip(
            keys, tokens, findings, chunk_summaries, strict=True
        ):
            if counted is not None:
                counts[key] = counted
                summaries.append(summary)
            if found:
                example_findings[key] = [replace(f, example_key=key) for f in found]
    return CheckReport(
        example_findings=example_findings,
        dataset_findings=check_dataset(summaries, settings, splits),
        token_stats=token_stats(list(counts.values()), limit=settings.target_context_tokens),
        token_counts=counts,
    )
