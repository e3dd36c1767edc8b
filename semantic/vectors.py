"""Cosine arithmetic over unit float16 rows: exact top-k search and semantic duplicate pairs.
Pure numpy, no Django.

The rows are unit length, so cosine is a dot product. Float16 has no fast matrix product in
numpy, so rows are converted to float32 a block at a time: memory stays bounded at 100k rows and
the product runs in BLAS.
"""

from __future__ import annotations

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
