from datasets_app.splits.assign import SplitItem, assign_splits
from datasets_app.splits.groups import group_ids
from datasets_app.splits.leakage import LeakagePair, leakage_report


def test_it_lists_pairs_that_straddle_splits():
    assignments = {1: "train", 2: "test", 3: "train", 4: "unassigned"}
    pairs = [(2, 1, "near", 0.9), (1, 3, "exact", 1.0), (1, 4, "exact", 1.0), (1, 9, "near", 0.8)]
    assert leakage_report(pairs, assignments) == [LeakagePair(1, 2, "train", "test", "near", 0.9)]


def test_it_finds_no_leakage_after_a_grouped_split():
    pairs = [(i, i + 1, "near", 0.9) for i in range(0, 300, 2)] + [(5, 300, "exact", 1.0)]
    groups = group_ids((a, b) for a, b, _, _ in pairs)
    items = [SplitItem(key=k, group=groups.get(k)) for k in range(400)]
    result = assign_splits(items, ratios={"train": 0.5, "test": 0.5}, seed=0)
    assert leakage_report(pairs, result.assignments) == []
    ungrouped = assign_splits(
        items, ratios={"train": 0.5, "test": 0.5}, seed=0, group_near_duplicates=False
    )
    assert leakage_report(pairs, ungrouped.assignments) != []


def test_it_groups_by_cluster_without_excluded_pairs():
    assert group_ids([(3, 1), (1, 2), (7, 8)], excluded_pairs=[(8, 7)]) == {1: 1, 2: 1, 3: 1}
