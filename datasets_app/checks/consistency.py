"""Consistency rules no other tool does well: system prompt variants (and near-identical
ones), a long prompt prefix repeated in almost every example, and style drift across answers
(flagging the minority, with counts)."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from difflib import SequenceMatcher
from operator import attrgetter

from datasets_app.checks.catalog import finding

MAX_VARIANTS_COMPARED = 50  # pairs grow quadratically; rarer variants are listed, not compared
_WORD = re.compile(r"\w+")
_STYLE_RULES = (
    (
        "terminal_punctuation",
        "answer_ending_drift",
        "end with . ! or ?",
        "do not end with . ! or ?",
    ),
    ("markdown", "answer_markdown_drift", "use markdown", "are plain text"),
    ("json", "answer_json_drift", "are JSON", "are prose"),
    (
        "trailing_newline",
        "answer_trailing_newline_drift",
        "end with a newline",
        "do not end with a newline",
    ),
)


def _quote(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return repr(text if len(text) <= limit else text[: limit - 1] + "…")


def similarity(a: str, b: str) -> float:
    """Word-sequence similarity in [0, 1] (difflib ratio over case-folded words)."""
    wa, wb = _WORD.findall(a.casefold()), _WORD.findall(b.casefold())
    if not wa and not wb:
        return 1.0
    matcher = SequenceMatcher(None, wa, wb, autojunk=False)
    if matcher.real_quick_ratio() < 0.5 or matcher.quick_ratio() < 0.5:
        return matcher.quick_ratio()
    return matcher.ratio()


def check_system_prompts(summaries, settings, out: list) -> None:
    keys_by_prompt: dict[str, list] = defaultdict(list)
    for s in summaries:
        if s.system_prompt is not None:
            keys_by_prompt[s.system_prompt].append(s.key)
    if len(keys_by_prompt) < 2:
        return
    ranked = sorted(keys_by_prompt.items(), key=lambda item: -len(item[1]))
    listed = "; ".join(f"{_quote(text)} ({len(keys)})" for text, keys in ranked[:5])
    more = f"; and {len(ranked) - 5} more" if len(ranked) > 5 else ""
    out.append(
        finding(
            "system_prompt_variants",
            f"{len(ranked)} different system prompts: {listed}{more}.",
            details={
                "variants": len(ranked),
                "counts": [len(keys) for _, keys in ranked[:MAX_VARIANTS_COMPARED]],
            },
        )
    )
    top = ranked[:MAX_VARIANTS_COMPARED]
    for i, (common, common_keys) in enumerate(top):
        for rare, rare_keys in top[i + 1 :]:
            score = similarity(common, rare)
            if score >= settings.system_prompt_similarity:
                out.append(
                    finding(
                        "near_identical_system_prompts",
                        f"{len(rare_keys)} examples use {_quote(rare)}, almost the same as {_quote(common)} used by {len(common_keys)} (similarity {score:.2f}).",
                        details={
                            "similarity": round(score, 4),
                            "variant_count": len(rare_keys),
                            "common_count": len(common_keys),
                        },
                        example_keys=tuple(rare_keys),
                    )
                )


def check_prefix(summaries, settings, out: list) -> None:
    texts = [(s.key, s.first_user) for s in summaries if s.first_user]
    if len(texts) < settings.style_min_answers:
        return
    needed = settings.prefix_min_share * len(texts)
    group = texts
    length = 0
    step = settings.prefix_min_chars
    # Grow the prefix while enough examples still share it: doubling, then halving the step.
    while step >= 1:
        candidate = length + step
        counts = Counter(text[:candidate] for _, text in group if len(text) >= candidate)
        best = counts.most_common(1)
        if best and best[0][1] >= needed:
            prefix = best[0][0]
            group = [(k, t) for k, t in group if t.startswith(prefix)]
            length = candidate
            step *= 2
        elif candidate <= settings.prefix_min_chars:
            return  # no longer prefix can be shared more widely than this one: none will do
        else:
            step //= 2
    if length < settings.prefix_min_chars:
        return
    prefix = group[0][1][:length]
    cut = max(prefix.rfind(" "), prefix.rfind("\n"))
    if (
        cut >= settings.prefix_min_chars
        and not prefix[length - 1].isspace()
        and length < min(len(t) for _, t in group)
    ):
        prefix = prefix[:cut]
    if len(prefix.strip()) < settings.prefix_min_chars:
        return
    out.append(
        finding(
            "repeated_prompt_prefix",
            f"{len(group)} of {len(texts)} examples start their user message with the same {len(prefix)} characters: {_quote(prefix, 120)}.",
            details={"prefix": prefix, "count": len(group), "of": len(texts)},
            example_keys=tuple(k for k, _ in group),
        )
    )


def check_style_drift(summaries, settings, out: list) -> None:
    # Few distinct styles exist: count them, and list keys only for a feature that drifts.
    styles = Counter(s.answer_style for s in summaries)
    styles.pop(None, None)
    for feature, rule_id, yes_text, no_text in _STYLE_RULES:
        get = attrgetter(feature)
        n_yes = sum(n for style, n in styles.items() if get(style))
        n_no = sum(n for style, n in styles.items() if get(style) is not None and not get(style))
        n_values = n_yes + n_no
        if n_values < settings.style_min_answers:
            continue
        minority_is_yes = n_yes <= n_no
        n_minority = n_yes if minority_is_yes else n_no
        if not n_minority or n_minority > settings.style_minority_share * n_values:
            continue
        majority_text, minority_text = (
            (no_text, yes_text) if minority_is_yes else (yes_text, no_text)
        )
        minority = [
            s.key
            for s in summaries
            if s.answer_style is not None
            and (value := get(s.answer_style)) is not None
            and bool(value) is minority_is_yes
        ]
        out.append(
            finding(
                rule_id,
                f"{len(minority)} of {n_values} answers {minority_text} while {n_values - len(minority)} {majority_text}.",
                details={
                    "feature": feature,
                    "minority": len(minority),
                    "majority": n_values - len(minority),
                },
                example_keys=tuple(minority),
            )
        )
