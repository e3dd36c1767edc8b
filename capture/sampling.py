"""Deterministic sampling of logs by id: the same seed and ids always pick the same logs.

Pure module. A log's draw is the first 8 bytes of sha256("<seed>:<id>") as a number in [0, 1);
a sample of ``n`` takes the ``n`` smallest draws, and a rate keeps draws below it — so a capture
rule's 10% and a later "add 10% of these" agree on which logs they mean.
"""

from __future__ import annotations

import hashlib


def draw(log_id: int, seed: int | str = 0) -> float:
    digest = hashlib.sha256(f"{seed}:{log_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def sample_ids(ids: list[int], n: int, seed: int | str = 0) -> list[int]:
    """The ``n`` ids with the smallest draws, in ascending id order."""
    if n >= len(ids):
        return sorted(ids)
    return sorted(sorted(ids, key=lambda i: (draw(i, seed), i))[:n])


def sampled(log_id: int, rate: float, seed: int | str = 0) -> bool:
    """Whether a log falls inside a ``rate`` (0..1) sample."""
    return rate >= 1 or draw(log_id, seed) < rate
