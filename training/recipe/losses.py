"""Loss and token accuracy over assistant tokens, shared by training and evaluation."""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel
from torch.utils.checkpoint import checkpoint

from .batching import Row, collate
from .data import IGNORE

# Architectures whose logits are exactly ``lm_head(norm(h))``: for them the loss projects only
# the trained positions of each row, a chunk at a time (soft-capped or scaled logits, as in
# Gemma 2, keep the model's own head).
PLAIN_HEAD = frozenset({"llama", "mistral", "qwen2", "qwen3"})
CHUNK_TOKENS = 1024


def batch_loss(model, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, int, int]:
    """Summed cross-entropy over trained tokens, their count, and how many the model got right.

    ``use_cache=False`` is what lets transformers turn restarted ``position_ids`` into a
    block-diagonal mask for packed rows. The vocabulary projection is the memory peak (tokens ×
    vocabulary × 4 bytes, times four with log-softmax and gradients), so only trained tokens are
    projected: for plain heads each row's own trained positions, ``CHUNK_TOKENS`` at a time and
    recomputed in the backward pass; otherwise every position some row trains on
    (``logits_to_keep``).
    """
    parts = _plain_head(model)
    if parts is None:
        return _batch_loss_by_logits(model, batch)
    norm, head = parts
    device = next(model.parameters()).device
    targets = batch["targets"].to(device)
    captured: list[torch.Tensor] = []
    hook = norm.register_forward_hook(lambda module, args, out: captured.append(out))
    try:
        model(
            input_ids=batch["input_ids"].to(device),
            position_ids=batch["position_ids"].to(device),
            use_cache=False,
            logits_to_keep=1,
        )
    finally:
        hook.remove()
    hidden = captured[-1]
    mask = targets != IGNORE
    h, y = hidden[mask], targets[mask]
    loss_sum = hidden.sum() * 0.0  # stays in the graph when no token is trained
    correct = 0
    for i in range(0, y.shape[0], CHUNK_TOKENS):
        args = (head, h[i : i + CHUNK_TOKENS], y[i : i + CHUNK_TOKENS])
        if torch.is_grad_enabled():
            chunk_loss, chunk_correct = checkpoint(_chunk_loss, *args, use_reentrant=False)
        else:
            chunk_loss, chunk_correct = _chunk_loss(*args)
        loss_sum = loss_sum + chunk_loss
        correct += int(chunk_correct)
    return loss_sum, int(y.shape[0]), correct


def _chunk_loss(head, h: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    logits = head(h).float()
    loss = F.cross_entropy(logits, y, reduction="sum")
    return loss, (logits.detach().argmax(-1) == y).sum()


def _plain_head(model):
    """(final norm, output head) of a model whose logits are ``head(norm(h))``, else None."""
    core = model.module if isinstance(model, DistributedDataParallel) else model
    if getattr(getattr(core, "config", None), "model_type", None) not in PLAIN_HEAD:
        return None
    try:
        norm, head = core.get_decoder().norm, core.get_output_embeddings()
    except AttributeError:
        return None
    return (norm, head) if norm is not None and head is not None else None


def _batch_loss_by_logits(model, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, int, int]:
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
