"""Split groups from duplicate pairs: each example's group is its cluster's smallest key."""

from __future__ import annotations

from collections.abc import Hashable, Iterable


def group_ids(
    pairs: Iterable[tuple[Hashable, Hashable]],
    excluded_pairs: Iterable[tuple[Hashable, Hashable]] = (),
) -> dict:
    """Member -> group id for every member of a pair (exact and near pairs may be mixed).

    The groups are the duplicate clusters of :func:`datasets_app.dedup.build_clusters`: connected
    components of the pairs, leaving out pairs a curator marked "not duplicates" (in either
    order). Examples in no pair have no entry: they are groups of one. Entries come in order of
    group id, then member.
    """
    excluded = {(a, b) if a <= b else (b, a) for a, b in excluded_pairs}
    parent: dict = {}
    for a, b in pairs:
        if a == b or (excluded and ((a, b) if a <= b else (b, a)) in excluded):
            continue
        root_a, root_b = _root(parent, a), _root(parent, b)
        # the smaller root wins, so every root is its component's smallest member
        if root_b < root_a:
            root_a, root_b = root_b, root_a
        parent[root_b] = root_a
        parent.setdefault(root_a, root_a)
    roots = sorted((_root(parent, member), member) for member in parent)
    return {member: root for root, member in roots}


def _root(parent: dict, x):
    root = x
    while (up := parent.get(root, root)) != root:
        root = up
    while x != root:  # path compression
        parent[x], x = root, parent[x]
    return root
