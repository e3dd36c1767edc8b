"""Near-duplicate pairs (DESIGN §3): Jaccard >= threshold over word 5-gram shingles.

Pure module. Pipeline over the normalized texts:

1. identical texts are collapsed to one representative (they are near duplicates of each other
   at similarity 1.0, and need no MinHash);
2. MinHash signatures and LSH banding (``minhash.py``) propose candidate pairs of representatives;
3. candidates whose signatures agree far below the threshold are dropped (``estimate_margin``);
4. every remaining candidate is verified by its exact Jaccard on the shingle sets of words
   (``verify.py``: plain Python sets of word tuples, no hashing involved), so no reported pair is
   below the threshold: precision is 1.0 by construction;
5. verified pairs of representatives are expanded to every member pair.

Keys are any sortable, hashable ids (example ids, or ``("a", id)`` tuples); each pair is reported
once with ``a < b``, sorted.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from itertools import combinations

import numpy as np

from datasets_app.dedup.minhash import (
    DEFAULT_MIN_RECALL,
    DEFAULT_NUM_PERM,
    band_candidates,
    estimate_margin,
    lsh_params,
    text_signatures,
)
from datasets_app.dedup.text import normalize_text
from datasets_app.dedup.verify import exact_pairs

DEFAULT_THRESHOLD = 0.8


@dataclass(frozen=True, order=True)
class DuplicatePair:
    """Two members whose texts are near duplicates (``a < b``) and their exact Jaccard."""

    a: Hashable
    b: Hashable
    similarity: float


@dataclass(frozen=True)
class NearSettings:
    threshold: float = DEFAULT_THRESHOLD
    num_perm: int = DEFAULT_NUM_PERM
    min_recall: float = DEFAULT_MIN_RECALL
    seed: int = 0


def near_duplicate_pairs(
    texts: Mapping[Hashable, str], *, threshold: float = DEFAULT_THRESHOLD, seed: int = 0
) -> list[DuplicatePair]:
    """Every pair of ``texts`` (key -> text, normalized here) with Jaccard >= threshold."""
    keys = sorted(texts)
    settings = NearSettings(threshold=threshold, seed=seed)
    found = verified_pairs([normalize_text(texts[k]) for k in keys], settings)
    return [DuplicatePair(keys[i], keys[j], s) for i, j, s in found]


def verified_pairs(
    normalized: list[str], settings: NearSettings, side: np.ndarray | None = None
) -> list[tuple[int, int, float]]:
    """Index pairs (i < j, similarity) of near-duplicate normalized texts, sorted.

    With ``side`` (one bool per text), only pairs with one text on each side are reported: that
    is how one data set is checked against another without comparing either with itself.
    """
    # identical texts share one representative (the first), keyed by the text itself
    by_text: dict[str, list[int]] = {}
    for i, text in enumerate(normalized):
        by_text.setdefault(text, []).append(i)
    members = {group[0]: group for group in by_text.values()}
    del by_text
    reps = np.fromiter(members, np.int64, len(members))

    found: list[tuple[int, int, float]] = []
    for group in members.values():
        found.extend((i, j, 1.0) for i, j in combinations(group, 2))
    for rep_a, rep_b, similarity in _verified_rep_pairs(normalized, reps, members, settings, side):
        found.extend(
            (min(i, j), max(i, j), similarity) for i in members[rep_a] for j in members[rep_b]
        )
    if side is not None:
        found = [p for p in found if side[p[0]] != side[p[1]]]
    found.sort()
    return found


def _verified_rep_pairs(normalized, reps, members, settings, side):
    reps = np.array([r for r in reps.tolist() if normalized[r]], dtype=np.int64)
    if len(reps) < 2:
        return []
    rep_texts = [normalized[r] for r in reps.tolist()]
    signature = text_signatures(rep_texts, settings.num_perm, settings.seed)
    bands, rows = lsh_params(settings.threshold, settings.num_perm, settings.min_recall)
    pairs = band_candidates(signature, bands, rows, settings.seed)
    if side is not None and len(pairs):
        has_true = np.array([side[members[r]].any() for r in reps.tolist()])
        has_false = np.array([(~side[members[r]]).any() for r in reps.tolist()])
        lo, hi = pairs[:, 0], pairs[:, 1]
        keep = (has_true[lo] & has_false[hi]) | (has_false[lo] & has_true[hi])
        pairs = pairs[keep]
    if len(pairs):
        agree = np.empty(len(pairs), dtype=np.float64)
        step = 65536
        for s in range(0, len(pairs), step):
            lo, hi = pairs[s : s + step, 0], pairs[s : s + step, 1]
            agree[s : s + step] = (signature[lo] == signature[hi]).mean(axis=1)
        margin = estimate_margin(settings.threshold, settings.num_perm)
        pairs = pairs[agree >= settings.threshold - margin]
    return [
        (int(reps[i]), int(reps[j]), similarity)
        for i, j, similarity in exact_pairs(rep_texts, pairs, settings.threshold)
    ]
