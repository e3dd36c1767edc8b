"""Loss and token accuracy over assistant tokens, shared by training and evaluation."""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

from .batching import Row, collate
from .data import IGNORE


def batch_loss(model, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, int, int]:
    """Summed cross-entropy over trained tokens, their count, and how many the model got right.

    Only positions with a target are projected to the vocabulary (``logits_to_keep``), which
    saves the logits memory of prompt tokens. ``use_cache=False`` is what lets transformers turn
    restarted ``position_ids`` into a block-diagonal mask for packed rows.
    """
    device = next(model.parameters()).device
    targets = batch["targets"].to(device)
    keep = (targets != IGNORE).any(dim=0).nonzero().squeeze(-1)
    out = model(
        input_ids=batch["input_ids"].to(device),
        position_ids=batch["position_ids"].to(device),
        use_cache=False,
        logits_to_keep=keep,
    )
    logits = out.logits.float()
    kept = targets[:, keep]
    loss_sum = F.cross_entropy(
        logits.reshape(-1, logits.shape[-1]), kept.reshape(-1), ignore_index=IGNORE, reduction="sum"
    )
    mask = kept != IGNORE
    correct = int(((logits.detach().argmax(-1) == kept) & mask).sum())
    return loss_sum, int(mask.sum()), correct


@torch.no_grad()
def evaluate_rows(
    model, rows: list[Row], *, pad_id: int, batch_size: int, tick: Callable[[], None] | None = None
) -> dict[str, float]:
    """Mean loss and token accuracy over the assistant tokens of ``rows``."""
    was_training = model.training
    model.eval()
    total_loss, total_tokens, total_correct = 0.0, 0, 0
    for i in range(0, len(rows), batch_size):
        loss_sum, n, correct = batch_loss(model, collate(rows[i : i + batch_size], pad_id))
        total_loss += float(loss_sum)
        total_tokens += n
        total_correct += correct
        if tick:
            tick()
    model.train(was_training)
    if not total_tokens:
        return {"loss": float("nan"), "token_accuracy": float("nan"), "tokens": 0}
    return {
        "loss": total_loss / total_tokens,
        "token_accuracy": total_correct / total_tokens,
        "tokens": total_tokens,
    }
