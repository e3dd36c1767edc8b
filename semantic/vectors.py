"""Cosine arithmetic over unit float16 rows: exact top-k search and semantic duplicate pairs.
Pure numpy, no Django.

The rows are unit length, so cosine is a dot product. Float16 has no fast matrix product in
numpy, so rows are converted to float32 a block at a time: memory stays bounded at 100k rows and
the product runs in BLAS.
"""

from __future__ import annotations

import math

import numpy as np

BLOCK = 16384


def top_k(vectors: np.ndarray, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Row numbers of the ``k`` rows most similar to ``query`` (best first) and their cosines."""
    n = len(vectors)
    if n == 0 or k <= 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
    q = np.asarray(query, dtype=np.float32).reshape(-1)
    scores = np.empty(n, dtype=np.float32)
    for start in range(0, n, BLOCK):
        block = np.asarray(vectors[start : start + BLOCK], dtype=np.float32)
        scores[start : start + len(block)] = block @ q
    k = min(k, n)
    best = np.argpartition(-scores, k - 1)[:k]
    best = best[np.lexsort((best, -scores[best]))]  # by score, ties by row: deterministic
    return best.astype(np.int64), scores[best]


# --- semantic duplicates: random-hyperplane LSH candidates, every pair verified exactly -------
# Two unit rows at cosine c fall on the same side of a random hyperplane with probability
# p = 1 - acos(c)/π (0.857 at c = 0.9). A table hashes each row to ``bits`` such signs; rows
# sharing a bucket in any of TABLES tables are compared exactly. ``bits`` is chosen from the
# threshold so that a pair at exactly the threshold shares a bucket in some table with
# probability ≥ TARGET_RECALL (more bits: fewer, smaller buckets; fewer bits: more recall):
# 11 bits at 0.9, where unrelated rows (c ≈ 0.2) meet in ~0.2 % of buckets per table.
# bench/semantic.py measures the recall against exact all-pairs on 10k rows.
TABLES = 24
TARGET_RECALL = 0.99
MIN_BITS, MAX_BITS = 3, 16
VERIFY_ROWS = 1024


def bits_for(threshold: float, tables: int = TABLES) -> int:
    """Hyperplanes per table for ``threshold``: the most that keep the expected recall of a pair
    at the threshold ≥ TARGET_RECALL."""
    p = 1.0 - math.acos(min(1.0, max(-1.0, threshold))) / math.pi
    per_table = 1.0 - (1.0 - TARGET_RECALL) ** (1.0 / tables)
    if p >= 1.0:
        return MAX_BITS
    return int(min(MAX_BITS, max(MIN_BITS, math.floor(math.log(per_table) / math.log(p)))))


def duplicate_pairs(
    vectors: np.ndarray,
    threshold: float,
    *,
    bits: int | None = None,
    tables: int = TABLES,
    seed: int = 0,
) -> dict[tuple[int, int], float]:
    """``{(i, j): cosine}`` for row pairs ``i < j`` found by the index whose exact cosine is at
    least ``threshold``. Every reported pair is verified; pairs the index never proposes are the
    (rare) misses. Deterministic for a given ``seed``."""
    rows = np.asarray(vectors, dtype=np.float32)
    found: dict[tuple[int, int], float] = {}
    if len(rows) < 2:
        return found
    bits = bits or bits_for(threshold, tables)
    rng = np.random.default_rng(seed)
    weights = (1 << np.arange(bits)).astype(np.int64)
    for _ in range(tables):
        planes = rng.standard_normal((rows.shape[1], bits)).astype(np.float32)
        codes = ((rows @ planes) > 0).astype(np.int64) @ weights
        order = np.argsort(codes, kind="stable")
        _, starts, counts = np.unique(codes[order], return_index=True, return_counts=True)
        for start, count in zip(starts[counts > 1], counts[counts > 1], strict=True):
            _verify(rows, order[start : start + count], threshold, found)
    return found


def _verify(rows: np.ndarray, members: np.ndarray, threshold: float, found: dict) -> None:
    members = np.sort(members)
    for start in range(0, len(members), VERIFY_ROWS):
        left = members[start : start + VERIFY_ROWS]
        right = members[start:]
        sims = rows[left] @ rows[right].T
        i, j = np.nonzero(sims >= threshold)
        keep = j > i  # right starts where left starts: the diagonal and below are repeats
        for a, b, s in zip(left[i[keep]], right[j[keep]], sims[i[keep], j[keep]], strict=True):
            found[(int(a), int(b))] = float(s)


def exact_duplicate_pairs(vectors: np.ndarray, threshold: float) -> dict[tuple[int, int], float]:
    """Every pair ``i < j`` at cosine ≥ ``threshold``, by blocked all-pairs products (the
    reference the index is measured against; quadratic)."""
    rows = np.asarray(vectors, dtype=np.float32)
    found: dict[tuple[int, int], float] = {}
    for start in range(0, len(rows), VERIFY_ROWS):
        block = rows[start : start + VERIFY_ROWS] @ rows[start:].T
        i, j = np.nonzero(block >= threshold)
        keep = j > i
        for a, b, s in zip(i[keep], j[keep], block[i[keep], j[keep]], strict=True):
            found[(int(a) + start, int(b) + start)] = float(s)
    return found


class TooManyPairs(ValueError):
    """More pairs than the caller's ``limit`` are at the threshold."""


def cross_pairs(
    a: np.ndarray, b: np.ndarray, threshold: float, *, limit: int | None = None
) -> list[tuple[int, int, float]]:
    """Every ``(row of a, row of b, cosine)`` at cosine ≥ ``threshold``, by exact blocked
    products (two sets of up to 20k rows: a block of ``a`` against all of ``b`` at a time),
    sorted by row of ``a`` then row of ``b``. More than ``limit`` pairs raise TooManyPairs
    (a low threshold over two sets of one topic pairs nearly everything with everything).

    >>> u = np.asarray([[1.0, 0.0], [0.0, 1.0]], dtype=np.float16)
    >>> cross_pairs(u, u[:1], 0.9)
    [(0, 0, 1.0)]
    """
    right = np.asarray(b, dtype=np.float32)
    found: list[tuple[int, int, float]] = []
    if len(a) == 0 or len(right) == 0:
        return found
    for start in range(0, len(a), VERIFY_ROWS):
        sims = np.asarray(a[start : start + VERIFY_ROWS], dtype=np.float32) @ right.T
        i, j = np.nonzero(sims >= threshold)
        if limit is not None and len(found) + len(i) > limit:
            raise TooManyPairs(limit)
        found += [
            (int(x) + start, int(y), min(1.0, float(s)))
            for x, y, s in zip(i, j, sims[i, j], strict=True)
        ]
    return found
