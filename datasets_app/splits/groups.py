"""Split groups from duplicate pairs: each example's group is its cluster's smallest key."""

from __future__ import annotations

from collections.abc import Hashable, Iterable

from datasets_app.dedup.clusters import build_clusters
from datasets_app.dedup.near import DuplicatePair


def group_ids(
    pairs: Iterable[tuple[Hashable, Hashable]],
    excluded_pairs: Iterable[tuple[Hashable, Hashable]] = (),
) -> dict:
    """Member -> group id for every member of a pair (exact and near pairs may be mixed).

    Pairs a curator marked "not duplicates" are left out, as in the duplicate clusters. Examples
    in no pair have no entry: they are groups of one.
    """
    edges = (DuplicatePair(a, b, 1.0) for a, b in pairs)
    out: dict = {}
    for cluster in build_clusters(edges, excluded_pairs):
        for member in cluster.members:
            out[member] = cluster.members[0]
    return out
