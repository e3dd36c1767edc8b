"""Checks of preference pairs: an example whose ``metadata.rejected`` holds the rejected answer.

A pair is stored as the conversation with the chosen answer (``messages``) and the rejected
answer's turns (``metadata.rejected``), as the preference importers write it. The prompt is every
message before the final run of assistant turns; the chosen side is that run. The rejected side
may repeat the conversation (an "implicit prompt"): its leading non-assistant turns are then
compared with the prompt, and dropped when they match.

Per pair (:func:`check_preference`): both sides identical; identical once both are cut at the
training length (only the prompt survives the cut, so the pair teaches nothing); a side empty;
the two sides answering different prompts; roles that do not alternate; sides that share their
first turns (the shared turns belong in the prompt, or DPO scores them twice). Per dataset
(:func:`check_pair_summaries` over each pair's :class:`PairSummary`, which the example summaries
carry into the stored report): length bias (the chosen side longer in most pairs, with the
share), repeated pairs, and prompts that sit in two splits (exact or near duplicates of each
other, found as the split leakage report finds them: :func:`datasets_app.dedup.near_duplicate_pairs`
and :func:`datasets_app.splits.leakage_report` over the prompts instead of whole examples).
"""

from __future__ import annotations

import hashlib
from collections.abc import Hashable, Iterable, Mapping, Sequence
from typing import Any, NamedTuple

import orjson

from datasets_app.checks.catalog import finding
from datasets_app.checks.registry import Finding
from datasets_app.dedup.near import DEFAULT_THRESHOLD, near_duplicate_pairs
from datasets_app.dedup.text import normalize_text
from datasets_app.splits.assign import SPLITS
from datasets_app.splits.leakage import leakage_report

# Length bias is reported over at least this many pairs, when this share has the longer chosen.
LENGTH_BIAS_MIN_PAIRS = 10
LENGTH_BIAS_SHARE = 0.8
# Prompts are compared on their first characters: enough for any near duplicate worth naming.
PROMPT_MAX_CHARS = 4000
LEAKED_PAIRS_KEPT = 200  # prompt pairs listed in a leakage finding's details

MSG_IDENTICAL = "The chosen and rejected answers are identical; the pair teaches nothing."
MSG_IDENTICAL_CUT = (
    "Cut at the training length of {limit} tokens, the chosen and rejected sides are identical "
    "(the first {shared} tokens are shared: the prompt {prompt} tokens); the pair teaches nothing."
)
MSG_EMPTY = "The {side} answer is empty."
MSG_PROMPTS_DIFFER = (
    "The rejected side repeats a conversation that differs from the chosen side's prompt at "
    "message {index}; both answers must reply to the same prompt."
)
MSG_ROLES = "Roles do not alternate: {where} ({roles})."
MSG_SHARED_PREFIX = (
    "Both sides begin with the same {count} turn(s); move them into the prompt so that only the "
    "turns that differ are compared."
)
MSG_LENGTH_BIAS = (
    "The chosen answer is longer in {share:.0%} of {pairs} pairs; a preference model learns "
    "'longer is better' instead of the quality you picked."
)
MSG_DUPLICATE_PAIRS = (
    "{groups} groups of identical pairs ({extra} extra copies); each repeat weighs its pair again."
)
MSG_PROMPT_LEAKAGE = (
    "{pairs} pairs of preference examples in different splits share their prompt (identical or "
    "near-duplicate, Jaccard >= {threshold}): {examples} examples. Held-out pairs on a training "
    "prompt measure memory, not preference; split with near duplicates grouped."
)


class Pair(NamedTuple):
    """A preference example split into the prompt and its two answers (lists of messages)."""

    prompt: list[dict]
    chosen: list[dict]
    rejected: list[dict]
    rejected_prompt: list[dict] | None  # the conversation the rejected side repeats, if any


def is_preference(content: Any) -> bool:
    """True when ``content`` carries a rejected answer in ``metadata.rejected``."""
    if not isinstance(content, dict):
        return False
    metadata = content.get("metadata")
    return isinstance(metadata, dict) and "rejected" in metadata


def split_pair(content: dict) -> Pair | None:
    """The pair in ``content``, or None when its messages or rejected turns are not lists.

    >>> split_pair({"messages": [{"role": "user", "content": "Hi"},
    ...                          {"role": "assistant", "content": "Hello"}],
    ...             "metadata": {"rejected": [{"role": "assistant", "content": "Go away"}]}}).chosen
    [{'role': 'assistant', 'content': 'Hello'}]
    """
    messages = content.get("messages")
    rejected = (content.get("metadata") or {}).get("rejected")
    if not isinstance(messages, list) or not isinstance(rejected, list):
        return None
    if not all(isinstance(m, dict) for m in [*messages, *rejected]):
        return None
    cut = len(messages)
    while cut > 0 and messages[cut - 1].get("role") == "assistant":
        cut -= 1
    lead = 0
    while lead < len(rejected) and rejected[lead].get("role") != "assistant":
        lead += 1
    if lead == 0:
        return Pair(messages[:cut], messages[cut:], rejected, None)
    # a repeated conversation may include the assistant turns before the last user turn
    last_user = max(i for i, m in enumerate(rejected) if m.get("role") != "assistant")
    return Pair(
        messages[:cut], messages[cut:], rejected[last_user + 1 :], rejected[: last_user + 1]
    )


def _turn(message: dict) -> tuple:
    return (message.get("role"), _text(message), orjson.dumps(message.get("tool_calls")))


def _text(message: dict) -> str:
    content = message.get("content")
    return content.strip() if isinstance(content, str) else ""


def _blank(side: list[dict]) -> bool:
    return not side or all(not _text(m) and not m.get("tool_calls") for m in side)


def check_preference(content: Any, limit: int, encoding=None) -> list[Finding]:
    """Every pair-scope finding of one preference example (none for other examples).

    ``limit`` is the training length in tokens; with a tiktoken ``encoding`` the pair is also
    checked for sides that become identical once cut at ``limit``.
    """
    if not is_preference(content):
        return []
    pair = split_pair(content)
    if pair is None:
        return []  # the structure rules report unusable messages
    out: list[Finding] = []
    for side, turns, path in (
        ("chosen", pair.chosen, "messages"),
        ("rejected", pair.rejected, "metadata.rejected"),
    ):
        if _blank(turns):
            out.append(finding("preference_empty_side", MSG_EMPTY.format(side=side), path))
    if pair.rejected_prompt is not None:
        index = _first_difference(pair.prompt, pair.rejected_prompt)
        if index is not None:
            out.append(
                finding(
                    "preference_prompts_differ",
                    MSG_PROMPTS_DIFFER.format(index=index),
                    f"metadata.rejected[{index}]",
                )
            )
    _check_roles(pair, out)
    if out:
        return out
    chosen, rejected = [_turn(m) for m in pair.chosen], [_turn(m) for m in pair.rejected]
    if chosen == rejected:
        out.append(finding("preference_identical", MSG_IDENTICAL, "metadata.rejected"))
        return out
    shared = 0
    while shared < min(len(chosen), len(rejected)) and chosen[shared] == rejected[shared]:
        shared += 1
    if shared:
        out.append(
            finding(
                "preference_shared_prefix",
                MSG_SHARED_PREFIX.format(count=shared),
                "metadata.rejected",
                details={"shared_turns": shared},
            )
        )
    if encoding is not None:
        _check_cut(pair, limit, encoding, out)
    return out


def _first_difference(a: list[dict], b: list[dict]) -> int | None:
    for i in range(max(len(a), len(b))):
        if i >= len(a) or i >= len(b) or _turn(a[i]) != _turn(b[i]):
            return i
    return None


def _check_roles(pair: Pair, out: list) -> None:
    roles = [m.get("role") for m in pair.prompt if m.get("role") != "system"]
    if any(m.get("role") == "system" for m in pair.prompt[1:]):
        out.append(_roles("a system turn after the conversation started", roles))
        return
    previous = None
    for role in roles:
        speaker = "user" if role in ("user", "tool") else role
        if role == "tool" and previous == "assistant":
            previous = "user"
            continue
        if speaker == previous and role != "tool":
            out.append(_roles(f"two {role} turns in a row in the prompt", roles))
            return
        previous = speaker
    if previous != "user":
        out.append(_roles("the prompt must end with a user (or tool) turn", roles))
        return
    for side, turns in (("chosen", pair.chosen), ("rejected", pair.rejected)):
        if turns and turns[0].get("role") != "assistant":
            out.append(_roles(f"the {side} side must start with an assistant turn", roles))
            return


def _roles(where: str, roles: list) -> Finding:
    return finding(
        "preference_roles_not_alternating",
        MSG_ROLES.format(where=where, roles=" → ".join(map(str, roles)) or "no turns"),
        "messages",
    )


def _ids(messages: Iterable[dict], encoding) -> list[int]:
    ids: list[int] = []
    for m in messages:
        ids += encoding.encode_ordinary(f"<{m.get('role')}>\n{_text(m)}\n")
    return ids


def _check_cut(pair: Pair, limit: int, encoding, out: list) -> None:
    prompt = _ids(pair.prompt, encoding)
    chosen, rejected = _ids(pair.chosen, encoding), _ids(pair.rejected, encoding)
    shared = 0
    while shared < min(len(chosen), len(rejected)) and chosen[shared] == rejected[shared]:
        shared += 1
    if len(prompt) + shared >= limit:
        out.append(
            finding(
                "preference_identical_after_truncation",
                MSG_IDENTICAL_CUT.format(
                    limit=limit, shared=len(prompt) + shared, prompt=len(prompt)
                ),
                "metadata.rejected",
                details={"limit": limit, "prompt_tokens": len(prompt), "shared_tokens": shared},
            )
        )


def pair_hash(pair: Pair) -> str:
    """sha256 of the prompt and both sides (roles and stripped texts)."""
    data = [[_turn(m)[:2] for m in side] for side in (pair.prompt, pair.chosen, pair.rejected)]
    return hashlib.sha256(orjson.dumps(data)).hexdigest()


class PairSummary(NamedTuple):
    """What the dataset-scope pair rules need of one pair (kept per example by the report)."""

    pair_hash: str
    chosen_chars: int  # stripped text of the chosen turns
    rejected_chars: int
    prompt_text: str  # the prompt's normalized text, cut at PROMPT_MAX_CHARS


def pair_summary(content: Any) -> PairSummary | None:
    """The :class:`PairSummary` of a preference example; None for any other content."""
    pair = split_pair(content) if is_preference(content) else None
    if pair is None:
        return None
    prompt = "\n".join(f"{m.get('role')}: {_text(m)}" for m in pair.prompt)
    return PairSummary(
        pair_hash(pair),
        sum(len(_text(m)) for m in pair.chosen),
        sum(len(_text(m)) for m in pair.rejected),
        normalize_text(prompt[:PROMPT_MAX_CHARS]),
    )


def check_preference_dataset(
    examples: Sequence[tuple[Any, Any]], splits: Mapping[Hashable, str] | None = None
) -> list[Finding]:
    """Dataset-scope findings over ``(key, content)`` items; only preference examples count.
    ``splits`` (key -> train/validation/test/unassigned) enables the prompt leakage rule."""
    pairs = [(key, s) for key, content in examples if (s := pair_summary(content)) is not None]
    return check_pair_summaries(pairs, splits)


def check_pair_summaries(
    pairs: Sequence[tuple[Hashable, PairSummary]], splits: Mapping[Hashable, str] | None = None
) -> list[Finding]:
    """Length bias, repeated pairs and (with ``splits``) prompts leaking across splits, over
    ``(key, PairSummary)`` items in key order."""
    out: list[Finding] = []
    longer = [key for key, p in pairs if p.chosen_chars > p.rejected_chars]
    if len(pairs) >= LENGTH_BIAS_MIN_PAIRS and len(longer) >= LENGTH_BIAS_SHARE * len(pairs):
        share = len(longer) / len(pairs)
        out.append(
            finding(
                "preference_length_bias",
                MSG_LENGTH_BIAS.format(share=share, pairs=len(pairs)),
                details={"share_chosen_longer": share, "pairs": len(pairs)},
                example_keys=tuple(longer),
            )
        )
    groups: dict[str, list] = {}
    for key, p in pairs:
        groups.setdefault(p.pair_hash, []).append(key)
    repeated = [keys for keys in groups.values() if len(keys) > 1]
    if repeated:
        extra = sum(len(keys) - 1 for keys in repeated)
        out.append(
            finding(
                "preference_duplicate_pairs",
                MSG_DUPLICATE_PAIRS.format(groups=len(repeated), extra=extra),
                details={"groups": len(repeated), "extra_copies": extra, "members": repeated},
                example_keys=tuple(k for keys in repeated for k in keys),
            )
        )
    if splits:
        leaked = _prompt_leakage(pairs, splits)
        if leaked:
            keys = sorted({k for p in leaked for k in (p.a, p.b)})
            out.append(
                finding(
                    "preference_prompt_leakage",
                    MSG_PROMPT_LEAKAGE.format(
                        pairs=len(leaked), threshold=DEFAULT_THRESHOLD, examples=len(keys)
                    ),
                    details={
                        "pairs": len(leaked),
                        "threshold": DEFAULT_THRESHOLD,
                        "members": [[p.a, p.b] for p in leaked[:LEAKED_PAIRS_KEPT]],
                    },
                    example_keys=tuple(keys),
                )
            )
    return out


def _prompt_leakage(pairs, splits: Mapping[Hashable, str]) -> list:
    texts = {key: p.prompt_text for key, p in pairs if splits.get(key) in SPLITS}
    if len(set(map(splits.get, texts))) < 2:
        return []
    candidates = [
        (d.a, d.b, "exact" if d.similarity == 1.0 else "near", d.similarity)
        for d in near_duplicate_pairs(texts, threshold=DEFAULT_THRESHOLD)
    ]
    return leakage_report(candidates, splits)
