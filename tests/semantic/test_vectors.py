"""semantic/vectors.py: exact top-k, and LSH duplicate pairs that are always verified (a subset of
the exact all-pairs answer, with the same cosines) and find nearly all of them."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from semantic.vectors import duplicate_pairs, exact_duplicate_pairs, top_k


def unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float16)


def test_it_finds_the_k_most_similar_rows_best_first():
    vectors = unit(np.array([[1, 0], [0, 1], [1, 1], [-1, 0]], dtype=np.float32))
    rows, scores = top_k(vectors, np.array([1, 0.1]), 3)
    assert rows.tolist() == [0, 2, 1]
    assert scores[0] > scores[1] > scores[2]
    assert top_k(vectors[:0], np.array([1, 0]), 3)[0].tolist() == []


def test_it_finds_planted_near_duplicates_among_random_rows():
    rng = np.random.default_rng(1)
    base = rng.standard_normal((2000, 64)).astype(np.float32)
    twins = base[:100] + 0.25 * rng.standard_normal((100, 64)).astype(np.float32)
    vectors = unit(np.concatenate([base, twins]))
    exact = exact_duplicate_pairs(vectors, 0.9)
    found = duplicate_pairs(vectors, 0.9)
    assert len(exact) >= 90
    assert set(found) <= set(exact)
    assert len(found) / len(exact) >= 0.95
    assert all(abs(found[p] - exact[p]) < 1e-5 for p in found)


@settings(max_examples=30, deadline=None)
@given(
    st.integers(2, 60),
    st.integers(2, 12),
    st.floats(0.5, 0.99),
    st.integers(0, 2**16),
)
def test_it_never_reports_a_pair_below_the_threshold(n, d, threshold, seed):
    rng = np.random.default_rng(seed)
    vectors = unit(rng.standard_normal((n, d)).astype(np.float32) + 0.01)
    found = duplicate_pairs(vectors, threshold, tables=4, seed=seed)
    exact = exact_duplicate_pairs(vectors, threshold)
    assert set(found) <= set(exact)
    assert all(a < b for a, b in found)
    assert all(s >= threshold for s in found.values())


def test_it_uses_fewer_hyperplanes_for_lower_thresholds():
    from semantic.vectors import bits_for

    assert bits_for(0.9) == 11
    assert bits_for(0.5) < bits_for(0.7) < bits_for(0.9) <= bits_for(0.99)
