"""Duplicate clusters from verified pairs, and the "keep the best of each cluster" choice.

Pure module. A cluster is a connected component of the graph whose edges are verified duplicate
pairs, minus the pairs a curator marked "not duplicates": an excluded pair never becomes an
edge, although its two members can still meet in one cluster through other members (A~C and
B~C put A and B together even when A/B is excluded). Clusters are deterministic: members sorted,
clusters ordered by their first member, whatever the order of the input pairs.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import combinations

from datasets_app.dedup.near import DuplicatePair

EXACT = "exact"
NEAR = "near"

# approved beats unreviewed work, which beats rejected; archived rows should not be in clusters
STATUS_RANK = {"approved": 3, "needs_review": 2, "draft": 2, "rejected": 1, "archived": 0}
EMPTY_CLUSTER = "a cluster needs at least one member"


@dataclass(frozen=True)
class Cluster:
    """Sorted members and the least and greatest similarity of the verified pairs inside."""

    method: str
    members: tuple
    min_similarity: float
    max_similarity: float


class _UnionFind:
    def __init__(self) -> None:
        self.parent: dict = {}

    def find(self, x):
        root = x
        while self.parent.get(root, root) != root:
            root = self.parent[root]
        while x != root:  # path compression
            self.parent[x], x = root, self.parent.get(x, x)
        return root

    def union(self, a, b) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            # the smaller root wins, so the shape does not depend on the order of the pairs
            lo, hi = sorted((ra, rb))
            self.parent[hi] = lo


def _pair_key(a, b) -> tuple:
    return (a, b) if a <= b else (b, a)


def build_clusters(
    pairs: Iterable[DuplicatePair],
    excluded_pairs: Iterable[tuple[Hashable, Hashable]] = (),
    method: str = NEAR,
) -> list[Cluster]:
    """Connected components of ``pairs`` without the excluded ones (in either order)."""
    excluded = {_pair_key(a, b) for a, b in excluded_pairs}
    uf = _UnionFind()
    kept: list[DuplicatePair] = []
    for pair in pairs:
        if pair.a == pair.b or _pair_key(pair.a, pair.b) in excluded:
            continue
        uf.union(pair.a, pair.b)
        kept.append(pair)
    members: dict = {}
    sims: dict = {}
    for pair in kept:
        root = uf.find(pair.a)
        members.setdefault(root, set()).update((pair.a, pair.b))
        lo, hi = sims.get(root, (pair.similarity, pair.similarity))
        sims[root] = (min(lo, pair.similarity), max(hi, pair.similarity))
    clusters = [
        Cluster(method, tuple(sorted(group)), *sims[root]) for root, group in members.items()
    ]
    return sorted(clusters, key=lambda c: c.members[0])


def exact_clusters(
    keys: Mapping[Hashable, str], excluded_pairs: Iterable[tuple[Hashable, Hashable]] = ()
) -> list[Cluster]:
    """Clusters of members with equal exact keys (similarity 1.0), honouring exclusions."""
    excluded = {_pair_key(a, b) for a, b in excluded_pairs}
    excluded_members = {m for pair in excluded for m in pair}
    by_key: dict[str, list] = {}
    for member, key in keys.items():
        by_key.setdefault(key, []).append(member)
    pairs: list[DuplicatePair] = []
    for group in by_key.values():
        group.sort()
        if excluded_members.isdisjoint(group):
            # no exclusion touches the group: a chain joins it without k² pairs
            pairs.extend(DuplicatePair(a, b, 1.0) for a, b in zip(group, group[1:], strict=False))
        else:
            pairs.extend(DuplicatePair(a, b, 1.0) for a, b in combinations(group, 2))
    return build_clusters(pairs, excluded, method=EXACT)


@dataclass(frozen=True)
class KeeperCandidate:
    """What the chooser looks at for one cluster member."""

    key: Hashable
    status: str
    rating: float | None = None
    updated_at: datetime | None = None


def choose_keeper(candidates: Sequence[KeeperCandidate]) -> Hashable:
    """The member to keep: approved over unreviewed over rejected, then higher rating (none is
    lowest), then newest ``updated_at`` (none is oldest); remaining ties go to the smallest key,
    so the choice never depends on the order of the input."""
    if not candidates:
        raise ValueError(EMPTY_CLUSTER)

    def rank(c: KeeperCandidate):
        rating = float("-inf") if c.rating is None else c.rating
        stamp = c.updated_at.timestamp() if c.updated_at is not None else float("-inf")
        return (-STATUS_RANK.get(c.status, 0), -rating, -stamp)

    return min(candidates, key=lambda c: (rank(c), c.key)).key
