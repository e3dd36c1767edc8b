"""Dataset-level rules over :class:`ExampleSummary` records: size, duplicates, conflicting
labels, missing turns, mixed source formats; consistency rules live in :mod:`.consistency`."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Hashable, Mapping, Sequence

from datasets_app.checks.catalog import finding
from datasets_app.checks.consistency import check_prefix, check_style_drift, check_system_prompts
from datasets_app.checks.preference import check_pair_summaries
from datasets_app.checks.registry import Finding
from datasets_app.checks.settings import DEFAULT_SETTINGS, CheckSettings
from datasets_app.checks.summary import ExampleSummary


def check_dataset(
    summaries: Sequence[ExampleSummary],
    settings: CheckSettings = DEFAULT_SETTINGS,
    splits: Mapping[Hashable, str] | None = None,
) -> list[Finding]:
    """All dataset-scope findings; each names the example keys it concerns (if any).
    ``splits`` (key -> split) lets the pair rules report prompts shared across splits."""
    out: list[Finding] = []
    _check_size(summaries, settings, out)
    _check_duplicates(summaries, out)
    _check_conflicts(summaries, out)
    _check_missing_turns(summaries, out)
    _check_source_formats(summaries, out)
    check_system_prompts(summaries, settings, out)
    check_prefix(summaries, settings, out)
    check_style_drift(summaries, settings, out)
    pairs = [(s.key, s.pair) for s in summaries if s.pair is not None]
    if pairs:
        out += check_pair_summaries(pairs, splits)
    if settings.disabled_rules:
        out = [f for f in out if f.rule_id not in settings.disabled_rules]
    return out


def _check_size(summaries, settings, out) -> None:
    n = len(summaries)
    if n < settings.min_examples_error:
        out.append(
            finding(
                "too_few_examples",
                f"{n} examples; at least {settings.min_examples_error} are required.",
                details={"count": n},
            )
        )
    elif n < settings.min_examples_warning:
        out.append(
            finding(
                "few_examples",
                f"{n} examples; {settings.min_examples_warning} or more are recommended.",
                details={"count": n},
            )
        )


def _check_duplicates(summaries, out) -> None:
    # Most hashes occur once: count them all, then list the members of the repeated ones only.
    seen = Counter(s.content_hash for s in summaries)
    repeated = {h for h, n in seen.items() if n > 1 and h is not None}
    groups: dict[str, list] = {}
    if repeated:
        for s in summaries:
            if s.content_hash in repeated:
                groups.setdefault(s.content_hash, []).append(s.key)
    dup_groups = list(groups.values())
    if dup_groups:
        extra = sum(len(keys) - 1 for keys in dup_groups)
        out.append(
            finding(
                "exact_duplicates",
                f"{len(dup_groups)} groups of identical examples ({extra} extra copies); run deduplication to keep one of each.",
                details={"groups": len(dup_groups), "extra_copies": extra, "members": dup_groups},
                example_keys=tuple(k for keys in dup_groups for k in keys),
            )
        )


def _check_conflicts(summaries, out) -> None:
    # Most prompts occur once: remember each prompt's first answer, group only the conflicts.
    first_answer: dict[str, str] = {}
    conflicting = set()
    for s in summaries:
        if s.prompt_hash is not None:
            seen = first_answer.setdefault(s.prompt_hash, s.answer_hash)
            if seen != s.answer_hash:
                conflicting.add(s.prompt_hash)
    answers: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    if conflicting:
        for s in summaries:
            if s.prompt_hash in conflicting:
                answers[s.prompt_hash][s.answer_hash].append(s.key)
    conflicts = list(answers.values())
    if conflicts:
        keys = tuple(k for by_answer in conflicts for ks in by_answer.values() for k in ks)
        out.append(
            finding(
                "conflicting_answers",
                f"{len(conflicts)} prompts appear with different answers ({len(keys)} examples).",
                details={
                    "prompts": len(conflicts),
                    "members": [[k for ks in c.values() for k in ks] for c in conflicts],
                },
                example_keys=keys,
            )
        )
    n_answered = sum(1 for s in summaries if s.prompt_hash is not None)
    if n_answered >= 2:
        if len(first_answer) == 1:
            out.append(
                finding("all_prompts_identical", f"All {n_answered} examples have the same prompt.")
            )
        if len({s.answer_hash for s in summaries if s.answer_hash is not None}) == 1:
            out.append(
                finding("all_answers_identical", f"All {n_answered} examples have the same answer.")
            )


def _check_missing_turns(summaries, out) -> None:
    without_system = [s.key for s in summaries if not s.has_system]
    # Only a minority without a system prompt is a problem; a dataset without any is a choice.
    if without_system and len(without_system) < len(summaries):
        out.append(
            finding(
                "missing_system_message",
                f"{len(without_system)} of {len(summaries)} examples have no system message.",
                details={"count": len(without_system)},
                example_keys=tuple(without_system),
            )
        )
    without_user = [s.key for s in summaries if not s.has_user]
    if without_user:
        out.append(
            finding(
                "missing_user_message",
                f"{len(without_user)} of {len(summaries)} examples have no user message.",
                details={"count": len(without_user)},
                example_keys=tuple(without_user),
            )
        )


def _check_source_formats(summaries, out) -> None:
    counts = Counter(s.source_format for s in summaries if s.source_format)
    if len(counts) > 1:
        majority = counts.most_common(1)[0][0]
        described = ", ".join(f"{name} ({n})" for name, n in counts.most_common())
        out.append(
            finding(
                "mixed_source_formats",
                f"Examples come from {len(counts)} source formats: {described}.",
                details={"counts": dict(counts), "majority": majority},
                example_keys=tuple(
                    s.key for s in summaries if s.source_format and s.source_format != majority
                ),
            )
        )
