from datetime import datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from datasets_app.dedup.clusters import (
    KeeperCandidate,
    build_clusters,
    choose_keeper,
    exact_clusters,
)
from datasets_app.dedup.near import DuplicatePair

pairs_strategy = st.lists(
    st.tuples(st.integers(0, 15), st.integers(0, 15), st.floats(0.8, 1.0)), max_size=30
)


def test_it_joins_pairs_into_clusters_with_similarity_bounds():
    pairs = [DuplicatePair(1, 2, 0.9), DuplicatePair(2, 3, 0.85), DuplicatePair(7, 8, 1.0)]
    clusters = build_clusters(pairs)
    assert [c.members for c in clusters] == [(1, 2, 3), (7, 8)]
    assert (clusters[0].min_similarity, clusters[0].max_similarity) == (0.85, 0.9)


def test_it_never_uses_an_excluded_pair_as_an_edge():
    pairs = [DuplicatePair(1, 2, 0.9), DuplicatePair(3, 4, 0.9)]
    clusters = build_clusters(pairs, excluded_pairs=[(2, 1)])
    assert [c.members for c in clusters] == [(3, 4)]


@given(pairs_strategy, st.randoms(use_true_random=False))
def test_it_builds_the_same_clusters_whatever_the_order(raw, rnd):
    pairs = [DuplicatePair(a, b, s) for a, b, s in raw if a != b]
    shuffled = list(pairs)
    rnd.shuffle(shuffled)
    assert build_clusters(pairs) == build_clusters(shuffled)


@given(pairs_strategy, st.lists(st.tuples(st.integers(0, 15), st.integers(0, 15)), max_size=10))
def test_it_keeps_clusters_connected_only_through_allowed_pairs(raw, excluded):
    pairs = [DuplicatePair(a, b, s) for a, b, s in raw if a != b]
    banned = {frozenset(p) for p in excluded}
    clusters = build_clusters(pairs, excluded_pairs=excluded)
    allowed = [p for p in pairs if frozenset((p.a, p.b)) not in banned]
    where = {m: i for i, c in enumerate(clusters) for m in c.members}
    for p in allowed:
        assert where[p.a] == where[p.b]
    for c in clusters:
        assert list(c.members) == sorted(set(c.members)) and len(c.members) >= 2
        inside = [p for p in allowed if p.a in c.members]
        assert c.min_similarity == min(p.similarity for p in inside)


def test_it_clusters_exact_keys_and_honours_exclusions():
    keys = {1: "k", 2: "k", 3: "k", 4: "z", 5: "y", 6: "y"}
    assert [c.members for c in exact_clusters(keys)] == [(1, 2, 3), (5, 6)]
    assert [c.members for c in exact_clusters(keys, excluded_pairs=[(6, 5)])] == [(1, 2, 3)]
    assert all(c.method == "exact" for c in exact_clusters(keys))


def test_it_keeps_approved_then_rating_then_newest_then_smallest_key():
    now = datetime(2026, 1, 1)
    old = now - timedelta(days=1)
    assert (
        choose_keeper(
            [
                KeeperCandidate("a", "needs_review", 5, now),
                KeeperCandidate("b", "approved", 1, old),
                KeeperCandidate("c", "rejected", 5, now),
            ]
        )
        == "b"
    )
    assert (
        choose_keeper(
            [
                KeeperCandidate("a", "draft", None, now),
                KeeperCandidate("b", "needs_review", 2, old),
            ]
        )
        == "b"
    )
    assert (
        choose_keeper(
            [
                KeeperCandidate("a", "approved", 3, old),
                KeeperCandidate("b", "approved", 3, now),
            ]
        )
        == "b"
    )
    tie = [KeeperCandidate("b", "approved", 3, now), KeeperCandidate("a", "approved", 3, now)]
    assert choose_keeper(tie) == choose_keeper(tie[::-1]) == "a"
