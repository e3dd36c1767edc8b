"""Preference pairs for DPO and ORPO: records → pairs of encoded sequences → losses and rewards.

A preference record is a chat record (``messages`` with the chosen answer last) plus
``rejected``: the rejected answer's turns, as the app stores them in ``metadata.rejected``. The
prompt is every message before the final run of assistant turns; if ``rejected`` repeats a
conversation (it starts with non-assistant turns) it is used as the rejected side whole.

Both sides are rendered with the same chat template and label rules as SFT
(:func:`training.recipe.data.encode`): only the answer tokens carry log-probabilities.

The losses take summed (or per-token mean) log-probabilities of each side under the policy and
the reference and follow the published formulas:

* DPO (Rafailov et al. 2023), ``sigmoid``: with ``h = (πc - πr) - (ρc - ρr)``,
  ``loss = -(1 - ε) log σ(β h) - ε log σ(-β h)`` (ε: label smoothing, conservative DPO);
* IPO (Azar et al. 2023): ``loss = (h - 1 / (2β))²`` on per-token mean log-probabilities;
* ORPO (Hong et al. 2024): ``log odds(p) = log p - log(1 - p)`` of the mean per-token
  probability, ``loss = NLL(chosen) - λ log σ(log odds(c) - log odds(r))``.

Rewards are DPO's implicit ones, ``β (π - ρ)`` per side (ORPO: ``λ`` times the mean log-prob);
the margin is chosen minus rejected, the accuracy the share of pairs whose margin is > 0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F

from .data import IGNORE, Encoded, OverlengthError, encode

ERR_NO_REJECTED = "record {index} has no rejected answer (a preference pair needs one)"
ERR_OVERLENGTH = "{count} pair(s) exceed max_seq_len={max_seq_len} tokens: {listing}"
DROP_TOO_LONG = "too_long"
DROP_NOTHING_TO_LEARN = "no_trained_tokens"


@dataclass
class EncodedPair:
    """One pair: the chosen and the rejected conversation, each encoded as SFT encodes it."""

    index: int
    chosen: Encoded
    rejected: Encoded


@dataclass
class PairSet:
    """Encoded pairs plus every pair dropped or truncated by the over-length policy, and why."""

    pairs: list[EncodedPair] = field(default_factory=list)
    dropped: list[dict[str, Any]] = field(default_factory=list)
    truncated: list[dict[str, Any]] = field(default_factory=list)


def pair_records(record: dict[str, Any], *, index: int = 0) -> tuple[dict, dict]:
    """The chosen and the rejected conversation of one preference record.

    >>> chosen, rejected = pair_records({
    ...     "messages": [{"role": "user", "content": "2+2?"}, {"role": "assistant", "content": "4"}],
    ...     "rejected": [{"role": "assistant", "content": "5"}]})
    >>> rejected["messages"]
    [{'role': 'user', 'content': '2+2?'}, {'role': 'assistant', 'content': '5'}]
    """
    rejected = record.get("rejected")
    if not isinstance(rejected, list) or not rejected:
        raise ValueError(ERR_NO_REJECTED.format(index=index))
    messages = record["messages"]
    cut = len(messages)
    while cut > 0 and messages[cut - 1]["role"] == "assistant":
        cut -= 1
    repeats_prompt = rejected[0]["role"] != "assistant"
    tools = {"tools": record["tools"]} if record.get("tools") else {}
    chosen = {"messages": messages, **tools}
    other = {"messages": rejected if repeats_prompt else messages[:cut] + rejected, **tools}
    return chosen, other


def encode_pairs(
    records: list[dict[str, Any]], tokenizer, *, max_seq_len: int, overlength: str = "drop"
) -> PairSet:
    """Encode every pair and apply the over-length policy to the longer side; nothing silently.

    ``drop`` lists the pair in ``dropped`` with both lengths; ``truncate`` cuts both sides at
    ``max_seq_len`` (a pair identical after the cut is dropped: it teaches nothing); ``error``
    raises :class:`OverlengthError` naming every long pair.
    """
    out, too_long = PairSet(), []
    for index, record in enumerate(records):
        chosen_record, rejected_record = pair_records(record, index=index)
        chosen = encode(chosen_record, tokenizer, index=index)
        rejected = encode(rejected_record, tokenizer, index=index)
        report = {
            "index": index,
            "length": max(len(chosen.input_ids), len(rejected.input_ids)),
            "chosen_length": len(chosen.input_ids),
            "rejected_length": len(rejected.input_ids),
        }
        if "id" in record:
            report["id"] = record["id"]
        if report["length"] > max_seq_len:
            if overlength == "drop":
                out.dropped.append({**report, "reason": DROP_TOO_LONG})
                continue
            if overlength == "error":
                too_long.append(report)
                continue
            for ex in (chosen, rejected):
                ex.input_ids, ex.labels = ex.input_ids[:max_seq_len], ex.labels[:max_seq_len]
            out.truncated.append(report)
        same = chosen.input_ids == rejected.input_ids
        if same or not chosen.trained_tokens or not rejected.trained_tokens:
            out.dropped.append({**report, "reason": DROP_NOTHING_TO_LEARN})
            continue
        out.pairs.append(EncodedPair(index, chosen, rejected))
    if too_long:
        listing = ", ".join(f"#{r['index']} ({r['length']} tokens)" for r in too_long[:20])
        more = f" and {len(too_long) - 20} more" if len(too_long) > 20 else ""
        raise OverlengthError(
            ERR_OVERLENGTH.format(
                count=len(too_long), max_seq_len=max_seq_len, listing=listing + more
            ),
            too_long,
        )
    return out


def collate_pairs(pairs: list[EncodedPair], pad_id: int) -> dict[str, torch.Tensor]:
    """A batch of ``2 × len(pairs)`` rows: the chosen sides first, then the rejected ones.

    ``targets`` are the labels shifted left by one (position t predicts token t + 1) with
    ``IGNORE`` on padding, so ``logits[:, t]`` is scored against ``targets[:, t]``.

    >>> from training.recipe.data import Encoded
    >>> p = EncodedPair(0, Encoded(0, [5, 6, 7], [-100, 6, 7]), Encoded(0, [5, 8], [-100, 8]))
    >>> collate_pairs([p], pad_id=0)["targets"].tolist()
    [[6, 7, -100], [8, -100, -100]]
    """
    sides = [p.chosen for p in pairs] + [p.rejected for p in pairs]
    width = max(len(ex.input_ids) for ex in sides)
    input_ids = torch.full((len(sides), width), pad_id, dtype=torch.long)
    attention = torch.zeros((len(sides), width), dtype=torch.long)
    targets = torch.full((len(sides), width), IGNORE, dtype=torch.long)
    for row, ex in enumerate(sides):
        n = len(ex.input_ids)
        input_ids[row, :n] = torch.tensor(ex.input_ids)
        attention[row, :n] = 1
        targets[row, : n - 1] = torch.tensor(ex.labels[1:])
    return {"input_ids": input_ids, "attention_mask": attention, "targets": targets}


def sequence_logps(model, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    """Summed log-probability of each row's trained tokens, and how many there are per row."""
    device = next(model.parameters()).device
    targets = batch["targets"].to(device)
    logits = model(
        input_ids=batch["input_ids"].to(device),
        attention_mask=batch["attention_mask"].to(device),
        use_cache=False,
    ).logits.float()
    mask = targets != IGNORE
    picked = torch.gather(logits.log_softmax(-1), 2, targets.clamp(min=0).unsqueeze(-1)).squeeze(-1)
    return (picked * mask).sum(-1), mask.sum(-1)


def dpo_loss(
    policy_chosen: torch.Tensor,
    policy_rejected: torch.Tensor,
    reference_chosen: torch.Tensor,
    reference_rejected: torch.Tensor,
    *,
    beta: float,
    label_smoothing: float = 0.0,
    loss_type: str = "sigmoid",
    chosen_tokens: torch.Tensor | None = None,
    rejected_tokens: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Per-pair DPO (or IPO) losses, chosen rewards and rejected rewards.

    Pass summed log-probabilities. ``ipo`` compares per-token means of the log-ratios: give it
    each side's trained-token counts (``chosen_tokens``, ``rejected_tokens``), or pass means and
    no counts. The rewards are ``beta`` times the log-ratios passed in, so with counts they stay
    sequence-level, as for ``sigmoid``. ``label_smoothing`` is conservative DPO's (cDPO):
    the share of pairs assumed flipped.

    >>> t = torch.tensor
    >>> loss, rc, rr = dpo_loss(t([-1.0]), t([-3.0]), t([-2.0]), t([-2.0]), beta=0.5)
    >>> round(float(loss), 4), float(rc), float(rr)
    (0.3133, 0.5, -0.5)
    """
    chosen_ratio = policy_chosen - reference_chosen
    rejected_ratio = policy_rejected - reference_rejected
    if loss_type == "sigmoid":
        logits = chosen_ratio - rejected_ratio
        losses = (
            -F.logsigmoid(beta * logits) * (1 - label_smoothing)
            - F.logsigmoid(-beta * logits) * label_smoothing
        )
    elif loss_type == "ipo":
        if chosen_tokens is not None:
            chosen_ratio = chosen_ratio / chosen_tokens.clamp(min=1)
        if rejected_tokens is not None:
            rejected_ratio = rejected_ratio / rejected_tokens.clamp(min=1)
        losses = (chosen_ratio - rejected_ratio - 1 / (2 * beta)) ** 2
    else:
        raise ValueError(f"unknown DPO loss type {loss_type!r}")
    chosen_rewards = beta * (policy_chosen - reference_chosen).detach()
    rejected_rewards = beta * (policy_rejected - reference_rejected).detach()
    return losses, chosen_rewards, rejected_rewards


def log1mexp(x: torch.Tensor) -> torch.Tensor:
    """``log(1 - exp(x))`` for ``x < 0``, accurate at both ends (Mächler, "Accurately computing
    log(1 - exp(-|a|))", 2012): near 0 ``1 - exp(x)`` cancels in ``log1p(-exp(x))`` (a mean
    log-probability of -1e-6 came out 1.7% off in float32), so ``log(-expm1(x))`` is used there.

    >>> round(float(log1mexp(torch.tensor(-1e-6))), 4)
    -13.8155
    """
    far = x < -math.log(2)
    # each branch sees only inputs it is accurate for, so the unused one cannot put an inf
    # (and through torch.where's backward a NaN) into the gradient
    from_far = torch.log1p(-torch.exp(torch.where(far, x, -1.0)))
    from_near = torch.log(-torch.expm1(torch.where(far, -1.0, x)))
    return torch.where(far, from_far, from_near)


def orpo_loss(
    chosen_mean: torch.Tensor,
    rejected_mean: torch.Tensor,
    chosen_nll: torch.Tensor,
    *,
    beta: float,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Per-pair ORPO losses, chosen rewards and rejected rewards.

    ``chosen_mean`` and ``rejected_mean`` are per-token mean log-probabilities, ``chosen_nll``
    the chosen side's mean negative log-likelihood (the SFT term), per pair.

    >>> t = torch.tensor
    >>> loss, rc, rr = orpo_loss(t([-0.5]), t([-1.5]), t([0.5]), beta=0.1)
    >>> round(float(loss), 4)
    0.5171
    """
    log_odds = (chosen_mean - rejected_mean) - (log1mexp(chosen_mean) - log1mexp(rejected_mean))
    losses = chosen_nll - beta * F.logsigmoid(log_odds)
    return losses, beta * chosen_mean.detach(), beta * rejected_mean.detach()


def reward_metrics(chosen_rewards: torch.Tensor, rejected_rewards: torch.Tensor) -> dict:
    """Mean chosen and rejected reward, their margin and the share of pairs ranked right."""
    margin = chosen_rewards - rejected_rewards
    return {
        "rewards_chosen": float(chosen_rewards.mean()),
        "rewards_rejected": float(rejected_rewards.mean()),
        "reward_margin": float(margin.mean()),
        "reward_accuracy": float((margin > 0).float().mean()),
    }
