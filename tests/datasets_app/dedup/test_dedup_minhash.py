import random

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from datasets_app.dedup import minhash
from datasets_app.dedup.minhash import (
    band_candidates,
    candidate_probability,
    lsh_params,
    shingle_fingerprints,
    signatures,
    text_signatures,
)
from datasets_app.dedup.text import jaccard, shingles


def _random_text(rng, n_words, vocab=300):
    return " ".join(f"w{rng.randrange(vocab)}" for _ in range(n_words))


@given(st.floats(0.3, 0.95), st.sampled_from([64, 128, 256]))
@settings(max_examples=25, deadline=None)
def test_it_chooses_bands_that_catch_pairs_at_the_threshold(threshold, num_perm):
    bands, rows = lsh_params(threshold, num_perm)
    assert bands * rows <= num_perm
    assert candidate_probability(threshold, bands, rows) >= 0.99


def test_it_fingerprints_a_text_the_same_whatever_the_corpus():
    rng = random.Random(1)
    texts = [_random_text(rng, n) for n in (1, 3, 4, 5, 6, 40)]
    alone = [shingle_fingerprints([t]) for t in texts]
    together, offsets = shingle_fingerprints(texts)
    for i, (values, _) in enumerate(alone):
        assert np.array_equal(together[offsets[i] : offsets[i + 1]], values)
    assert [len(v) for v, _ in alone] == [1, 1, 1, 1, 2, 36]


def test_it_gives_equal_fingerprints_to_equal_shingles_only():
    values, offsets = shingle_fingerprints(["a b c d e", "x a b c d e y", "a b c d", "e d c b a"])
    first = set(values[offsets[0] : offsets[1]].tolist())
    assert first <= set(values[offsets[1] : offsets[2]].tolist())
    assert first.isdisjoint(values[offsets[2] : offsets[4]].tolist())


def test_it_estimates_jaccard_from_signatures():
    rng = random.Random(3)
    base = _random_text(rng, 300, vocab=5000).split()
    errors = []
    for _ in range(40):
        words = list(base)
        for _ in range(12):
            words[rng.randrange(len(words))] = f"z{rng.randrange(10**6)}"
        other = " ".join(words)
        truth = jaccard(shingles(" ".join(base)), shingles(other))
        sig = text_signatures([" ".join(base), other], num_perm=256)
        errors.append((sig[0] == sig[1]).mean() - truth)
    assert abs(np.mean(errors)) < 0.02
    assert np.std(errors) < 0.05


def test_it_hashes_a_document_longer_than_one_chunk_like_a_short_one(monkeypatch):
    rng = random.Random(5)
    texts = [_random_text(rng, 60), _random_text(rng, 9)]
    values, offsets = shingle_fingerprints(texts)
    expected = signatures(values, offsets, 64)
    monkeypatch.setattr(minhash, "_CHUNK_ROWS", 16)
    assert np.array_equal(signatures(values, offsets, 64), expected)


def test_it_proposes_pairs_that_share_a_band():
    sig = np.array(
        [[1, 2, 3, 4], [1, 2, 9, 9], [7, 7, 3, 4], [5, 6, 7, 8], [1, 2, 0, 0]], np.uint32
    )
    pairs = band_candidates(sig, bands=2, rows=2)
    assert pairs.tolist() == [[0, 1], [0, 2], [0, 4], [1, 4]]
