import random

import numpy as np

from datasets_app.dedup.text import jaccard, shingles
from datasets_app.dedup.verify import exact_pairs


def _texts(seed=1, n=40):
    rng = random.Random(seed)
    base = [[f"w{rng.randrange(500)}" for _ in range(rng.randrange(3, 90))] for _ in range(n // 2)]
    variants = [w[: rng.randrange(len(w) + 1)] + w for w in base]  # repeated prefixes
    return [" ".join(w) for w in base + variants]


def test_it_keeps_only_pairs_whose_exact_jaccard_reaches_the_threshold():
    texts = _texts(seed=2)
    pairs = np.array([(i, j) for i in range(len(texts)) for j in range(i + 1, len(texts))])
    kept = list(exact_pairs(texts, pairs, 0.6))
    expected = [
        (i, j, jaccard(shingles(texts[i]), shingles(texts[j])))
        for i, j in pairs.tolist()
        if jaccard(shingles(texts[i]), shingles(texts[j])) >= 0.6
    ]
    assert kept == expected and kept
