"""Contamination: which examples of data set A also appear, exactly or nearly, in data set B.

Pure module. Typical use: A is the training set, B an evaluation set of the team. Both sides are
compared through their normalized texts (``text.example_text``), so the check works across
source formats. B is indexed and A queried: MinHash signatures of both go through the same LSH
buckets and only pairs with one member on each side are kept, then verified exactly. A pair whose
normalized texts are equal is reported as ``exact``; any other verified pair as ``near``, never
both.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass

import numpy as np

from datasets_app.dedup.near import DEFAULT_THRESHOLD, NearSettings, verified_pairs
from datasets_app.dedup.text import normalize_text

EXACT = "exact"
NEAR = "near"


@dataclass(frozen=True, order=True)
class Overlap:
    a_key: Hashable
    b_key: Hashable
    kind: str
    similarity: float


def contamination(
    a_texts: Mapping[Hashable, str],
    b_texts: Mapping[Hashable, str],
    *,
    threshold: float = DEFAULT_THRESHOLD,
    seed: int = 0,
) -> list[Overlap]:
    """Every (A member, B member) pair whose texts are exact or near duplicates, sorted."""
    a_keys, b_keys = sorted(a_texts), sorted(b_texts)
    normalized = [normalize_text(a_texts[k]) for k in a_keys]
    normalized += [normalize_text(b_texts[k]) for k in b_keys]
    side = np.zeros(len(normalized), dtype=bool)
    side[len(a_keys) :] = True
    n_a = len(a_keys)
    overlaps = []
    for i, j, similarity in verified_pairs(normalized, NearSettings(threshold, seed=seed), side):
        # i < j and side differs, so i is on the A side
        kind = EXACT if normalized[i] == normalized[j] else NEAR
        overlaps.append(Overlap(a_keys[i], b_keys[j - n_a], kind, similarity))
    overlaps.sort()
    return overlaps
