from hypothesis import given
from hypothesis import strategies as st

from datasets_app.dedup.clusters import build_clusters
from datasets_app.dedup.near import DuplicatePair
from datasets_app.splits import group_ids

pairs = st.lists(st.tuples(st.integers(0, 30), st.integers(0, 30)), max_size=40)


@given(pairs, pairs)
def test_it_groups_as_the_duplicate_clusters_do(edges, excluded):
    clusters = build_clusters((DuplicatePair(a, b, 1.0) for a, b in edges), excluded)
    expected = {m: c.members[0] for c in clusters for m in c.members}
    assert list(group_ids(edges, excluded).items()) == list(expected.items())


def test_it_joins_transitively_and_leaves_out_excluded_pairs():
    groups = group_ids([(5, 3), (3, 9), (7, 8)], excluded_pairs=[(8, 7)])
    assert groups == {3: 3, 5: 3, 9: 3}
