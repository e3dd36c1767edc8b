"""Rows, batches and the pre-flight plan: packing, collation and step counting.

A *row* is one training sequence: a list of encoded examples laid end to end (one example when
packing is off). Attention never crosses examples inside a row: :func:`collate` restarts
``position_ids`` at 0 for every example and passes no attention mask, and transformers (5.x) then
builds a block-diagonal causal mask from the position restarts for eager and SDPA attention (the
model must be called with ``use_cache=False``). Padding at the end of a row is one more block
whose targets are all ignored, so it never influences a real token.
"""

from __future__ import annotations

import bisect
import math
import random
from typing import Any

import torch

from .data import IGNORE, Encoded, EncodedSet

Row = list[Encoded]


def pack(examples: list[Encoded], max_seq_len: int) -> list[Row]:
    """Best-fit-decreasing packing of examples into rows of at most ``max_seq_len`` tokens.

    Deterministic for a given input. Each example must already fit (the over-length policy ran).
    """
    order = sorted(range(len(examples)), key=lambda i: (-len(examples[i].input_ids), i))
    rows: list[Row] = []
    free: list[tuple[int, int]] = []  # (room left, row number), sorted: best fit = first with room
    for i in order:
        ex = examples[i]
        need = len(ex.input_ids)
        at = bisect.bisect_left(free, (need, -1))
        if at < len(free):
            room, row = free.pop(at)
            rows[row].append(ex)
            bisect.insort(free, (room - need, row))
        else:
            rows.append([ex])
            bisect.insort(free, (max_seq_len - need, len(rows) - 1))
    return rows


def make_rows(encoded: EncodedSet, *, max_seq_len: int, packing: bool) -> list[Row]:
    """Rows for training: packed, or one example per row in the input order."""
    if packing:
        return pack(encoded.examples, max_seq_len)
    return [[ex] for ex in encoded.examples]


def collate(rows: list[Row], pad_id: int) -> dict[str, torch.Tensor]:
    """Turn rows into a batch: ``input_ids``, ``position_ids`` and next-token ``targets``.

    ``targets[b, t]`` is the label the logits at ``t`` must predict: the label of token ``t + 1``
    of the same example, or ``-100`` at the last token of each example and on padding. Shifting
    here, not in the loss, keeps a packed row from predicting one example's first token from the
    previous example's last.

    Worked example (pad_id 0), one row holding example A (ids 5 6 7, labels -100 6 7) and example
    B (ids 8 9, labels -100 9), and a row holding example C (ids 3 4, labels -100 4)::

        input_ids    = [[5, 6, 7, 8, 9], [3, 4, 0, 0, 0]]
        position_ids = [[0, 1, 2, 0, 1], [0, 1, 0, 1, 2]]
        targets      = [[6, 7, -100, 9, -100], [4, -100, -100, -100, -100]]
    """
    width = max(sum(len(ex.input_ids) for ex in row) for row in rows)
    input_ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    position_ids = torch.zeros((len(rows), width), dtype=torch.long)
    targets = torch.full((len(rows), width), IGNORE, dtype=torch.long)
    for b, row in enumerate(rows):
        at = 0
        for ex in row:
            n = len(ex.input_ids)
            input_ids[b, at : at + n] = torch.tensor(ex.input_ids)
            position_ids[b, at : at + n] = torch.arange(n)
            targets[b, at : at + n - 1] = torch.tensor(ex.labels[1:])
            at += n
        position_ids[b, at:] = torch.arange(width - at)
    return {"input_ids": input_ids, "position_ids": position_ids, "targets": targets}


def epoch_batches(rows: list[Row], *, batch_size: int, seed: int, epoch: int) -> list[list[Row]]:
    """The batches of one epoch: rows shuffled by ``(seed, epoch)``, then cut into batches.

    Depends only on its arguments, so a resumed run sees the same order as an uninterrupted one.
    """
    order = list(range(len(rows)))
    random.Random(seed * 1_000_003 + epoch).shuffle(order)  # noqa: S311 - data order, not secrets
    shuffled = [rows[i] for i in order]
    return [shuffled[i : i + batch_size] for i in range(0, len(shuffled), batch_size)]


def shard(batches: list[Any], *, rank: int, world_size: int) -> list[Any]:
    """This process's share of the batches; wraps around so every process gets as many."""
    if world_size == 1:
        return batches
    per_rank = math.ceil(len(batches) / world_size)
    padded = [batches[i % len(batches)] for i in range(per_rank * world_size)]
    return padded[rank::world_size]


def steps_per_epoch(n_rows: int, *, batch_size: int, grad_accum: int, world_size: int = 1) -> int:
    """Optimizer steps in one epoch.

    Worked example: 10 rows, batch 4 → 3 batches; 2 processes → 2 each; accumulation 2 → 1 step.
    No rows → 0 steps.
    """
    batches = math.ceil(n_rows / batch_size)
    return math.ceil(math.ceil(batches / world_size) / grad_accum) if n_rows else 0


def plan(encoded: EncodedSet, config, *, world_size: int = 1) -> dict[str, Any]:
    """Pre-flight figures: tokens, sequences and steps, plus the dropped and truncated examples."""
    rows = make_rows(encoded, max_seq_len=config.max_seq_len, packing=config.packing)
    per_epoch = steps_per_epoch(
        len(rows),
        batch_size=config.batch_size,
        grad_accum=config.gradient_accumulation_steps,
        world_size=world_size,
    )
    total = per_epoch * config.epochs
    if config.max_steps:
        total = min(total, config.max_steps)
    tokens = sum(len(ex.input_ids) for ex in encoded.examples)
    # A padded batch is as wide as its longest row; packed rows are nearly full.
    return {
        "examples": len(encoded.examples),
        "sequences": len(rows),
        "tokens": tokens,
        "training_tokens": sum(ex.trained_tokens for ex in encoded.examples),
        "longest": max((len(ex.input_ids) for ex in encoded.examples), default=0),
        "steps_per_epoch": per_epoch,
        "total_steps": total,
        "dropped": list(encoded.dropped),
        "truncated": list(encoded.truncated),
    }
