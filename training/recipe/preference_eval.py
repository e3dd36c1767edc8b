"""A finished DPO or ORPO model scored on held-out preference pairs: reward accuracy and margin.

The pairs are encoded as training encodes them (:func:`~training.recipe.preference.encode_pairs`,
truncated at ``max_seq_len`` as evaluation during training does) and scored with the losses'
own reward definitions (:func:`~training.recipe.preference.dpo_loss` and ``orpo_loss``), so the
figures are those the run page charts for the validation split, on pairs the run never saw:

* ``rewards_chosen``, ``rewards_rejected``, ``reward_margin``, ``reward_accuracy`` — DPO's
  implicit rewards ``β (log π − log ρ)`` against the reference the run trained against (what it
  started from — the base, or for SFT → DPO the merged SFT model: the adapter disabled, or those
  weights loaded again for a full model); ORPO's ``λ ×`` mean log-prob;
* ``logp_accuracy`` for the model and for the base — the share of pairs whose chosen side has
  the higher summed log-probability: the base's figure is where training started.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch

from .artifacts import read_manifest
from .preference import (
    collate_pairs,
    dpo_loss,
    encode_pairs,
    orpo_loss,
    reward_metrics,
    sequence_logps,
)


@torch.no_grad()
def _logps(model, pairs, pad_id: int, batch_size: int) -> tuple[torch.Tensor, torch.Tensor]:
    sums, counts = [], []
    for i in range(0, len(pairs), batch_size):
        chunk = pairs[i : i + batch_size]
        s, c = sequence_logps(model, collate_pairs(chunk, pad_id))
        n = len(chunk)
        # rows: the chosen sides first, then the rejected ones; kept as (pair, side) columns
        sums.append(torch.stack([s[:n], s[n:]], dim=1).cpu())
        counts.append(torch.stack([c[:n], c[n:]], dim=1).cpu())
    return torch.cat(sums), torch.cat(counts).clamp(min=1)


def pair_scores(
    policy: tuple[torch.Tensor, torch.Tensor],
    reference: tuple[torch.Tensor, torch.Tensor],
    *,
    method: str,
    beta: float,
) -> dict[str, Any]:
    """Reward metrics from ``(sums, counts)`` of shape ``(pairs, 2)`` (chosen, rejected) under
    the model and its reference.

    >>> t = torch.tensor
    >>> s = pair_scores((t([[-1.0, -3.0]]), t([[1, 1]])), (t([[-2.0, -2.0]]), t([[1, 1]])),
    ...                 method="dpo", beta=0.5)
    >>> s["reward_margin"], s["reward_accuracy"], s["logp_accuracy"], s["base_logp_accuracy"]
    (1.0, 1.0, 1.0, 0.0)
    """
    (sums, counts), (ref, _) = policy, reference
    if method == "orpo":
        means = sums / counts
        _, chosen, rejected = orpo_loss(means[:, 0], means[:, 1], -means[:, 0], beta=beta)
    else:
        _, chosen, rejected = dpo_loss(
            sums[:, 0], sums[:, 1], ref[:, 0], ref[:, 1], beta=beta, loss_type="sigmoid"
        )
    return {
        **reward_metrics(chosen, rejected),
        "logp_accuracy": float((sums[:, 0] > sums[:, 1]).float().mean()),
        "base_logp_accuracy": float((ref[:, 0] > ref[:, 1]).float().mean()),
        "pairs": int(sums.shape[0]),
    }


def evaluate_pairs(
    model,
    tokenizer,
    records: list[dict[str, Any]],
    *,
    reference=None,
    method: str = "dpo",
    beta: float = 0.1,
    max_seq_len: int = 2048,
    batch_size: int = 8,
) -> dict[str, Any]:
    """:func:`pair_scores` of ``records`` (each with ``rejected``). The reference is the model
    with its adapter disabled, or ``reference`` (the base) for full weights."""
    encoded = encode_pairs(records, tokenizer, max_seq_len=max_seq_len, overlength="truncate")
    if not encoded.pairs:
        return {"pairs": 0, "dropped": len(encoded.dropped)}
    pad = tokenizer.pad_token_id
    policy = _logps(model, encoded.pairs, pad, batch_size)
    if reference is not None:
        ref = _logps(reference, encoded.pairs, pad, batch_size)
    else:
        with model.disable_adapter():
            ref = _logps(model, encoded.pairs, pad, batch_size)
    out = pair_scores(policy, ref, method=method, beta=beta)
    out["dropped"] = len(encoded.dropped)
    return out


def compare_pairs(
    model_dir: str | os.PathLike,
    records: list[dict[str, Any]],
    *,
    models_dir: str | os.PathLike,
    max_seq_len: int = 2048,
    batch_size: int = 8,
    device: str = "cpu",
) -> dict[str, Any]:
    """A trained preference model (its folder) scored on held-out pairs, with its own method
    and β from the manifest (``dpo_beta``, or ``orpo_beta`` for ORPO)."""
    from .evaluate import load_finetuned, load_start

    manifest = read_manifest(Path(model_dir))
    config = manifest.get("config") or {}
    method = manifest["method"]
    beta = config.get("orpo_beta" if method == "orpo" else "dpo_beta", 0.1)
    model, tokenizer = load_finetuned(model_dir, models_dir=models_dir, device=device)
    reference = None
    if not hasattr(model, "disable_adapter"):  # full weights: what the run started from
        reference = load_start(model_dir, models_dir=models_dir, device=device).eval()
    out = evaluate_pairs(
        model,
        tokenizer,
        records,
        reference=reference,
        method=method,
        beta=beta,
        max_seq_len=max_seq_len,
        batch_size=batch_size,
    )
    return {"method": method, "beta": beta, **out}
