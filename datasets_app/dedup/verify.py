"""Exact verification of candidate pairs on the word shingle sets. Pure module.

Only the exact Jaccard of ``text.shingles`` (Python sets of word tuples: no hashing involved)
decides whether a candidate is reported, so precision is 1.0 by construction. Building those sets
is the slowest step of the pipeline. Only two sets are alive at a time: a cache of recent sets
(tried) keeps millions of tuples alive, and the cyclic garbage collector then walks them on every
collection, which made the whole pipeline three times slower on the benchmark.

(A vectorized pre-check on the 32-bit fingerprints was tried and dropped: re-fingerprinting and
sorting every candidate's shingles cost more than the exact sets it saved, on the benchmark.)
"""

from __future__ import annotations

import numpy as np

from datasets_app.dedup.text import jaccard, shingles


def exact_pairs(texts: list[str], pairs: np.ndarray, threshold: float):
    """Yield ``(i, j, jaccard)`` for the pairs whose exact shingle Jaccard reaches the threshold."""
    # pairs are sorted by their first index, so its set is built once per run of pairs
    current, first = -1, set()
    for i, j in pairs.tolist():
        if i != current:
            current, first = i, shingles(texts[i])
        other = shingles(texts[j])
        small, large = sorted((len(first), len(other)))
        if small / large < threshold:
            continue  # even full containment could not reach the threshold
        similarity = jaccard(first, other)
        if similarity >= threshold:
            yield i, j, similarity
