import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from datasets_app.splits.assign import (
    SPLITS,
    SplitConfigError,
    SplitItem,
    assign_splits,
    validate_ratios,
)

RATIOS = {"train": 0.8, "validation": 0.1, "test": 0.1}

# items: unique keys, some sharing a cluster id, some with a stratum
item_lists = st.lists(
    st.tuples(
        st.integers(0, 10_000), st.one_of(st.none(), st.integers(0, 30)), st.sampled_from("xyz")
    ),
    max_size=80,
    unique_by=lambda t: t[0],
).map(lambda rows: [SplitItem(key=k, group=g, stratum=s) for k, g, s in rows])


def _with_current(items, result):
    return [
        SplitItem(i.key, i.group, i.stratum, current=result.assignments[i.key], override=i.override)
        for i in items
    ]


@pytest.mark.parametrize(
    "ratios",
    [RATIOS, {"train": 0.8, "validation": 0.2}, {"train": 0.9, "test": 0.1}, {"test": 1}],
)
def test_it_accepts_presets(ratios):
    assert list(validate_ratios(ratios)) == [s for s in SPLITS if s in ratios]


@pytest.mark.parametrize(
    ("ratios", "message"),
    [
        ({}, "at least one"),
        ({"train": 0.8, "dev": 0.2}, "unknown split"),
        ({"train": 1.2, "test": -0.2}, "positive"),
        ({"train": 0.8, "test": 0}, "positive"),
        ({"train": 0.8, "test": float("nan")}, "positive"),
        ({"train": 0.7, "test": 0.2}, "sum to 1"),
    ],
)
def test_it_rejects_bad_ratios(ratios, message):
    with pytest.raises(SplitConfigError, match=message):
        validate_ratios(ratios)


@given(item_lists, st.integers(0, 5), st.booleans(), st.randoms(use_true_random=False))
def test_it_is_deterministic_whatever_the_input_order(items, seed, stratify, rnd):
    shuffled = list(items)
    rnd.shuffle(shuffled)
    first = assign_splits(items, ratios=RATIOS, seed=seed, stratify=stratify)
    again = assign_splits(shuffled, ratios=RATIOS, seed=seed, stratify=stratify)
    assert first.assignments == again.assignments
    assert set(first.assignments) == {i.key for i in items}


@given(item_lists, st.booleans())
def test_it_never_splits_a_cluster(items, stratify):
    result = assign_splits(items, ratios=RATIOS, seed=1, stratify=stratify)
    by_group: dict = {}
    for item in items:
        if item.group is not None:
            by_group.setdefault(item.group, set()).add(result.assignments[item.key])
    assert all(len(splits) == 1 for splits in by_group.values())


@given(item_lists, item_lists, st.booleans())
@settings(max_examples=60)
def test_it_never_moves_existing_examples_when_data_is_added(old, new, stratify):
    first = assign_splits(old, ratios=RATIOS, seed=3, stratify=stratify)
    old_keys = {i.key for i in old}
    added = [i for i in new if i.key not in old_keys]  # new rows may join existing clusters
    second = assign_splits(
        _with_current(old, first) + added, ratios=RATIOS, seed=3, stratify=stratify
    )
    for key, split in first.assignments.items():
        assert second.assignments[key] == split


def test_it_keeps_unclustered_examples_put_even_without_their_current_split():
    old = [SplitItem(key=f"e{i}") for i in range(500)]
    first = assign_splits(old, ratios=RATIOS, seed=8)
    second = assign_splits(
        old + [SplitItem(key=f"n{i}") for i in range(500)], ratios=RATIOS, seed=8
    )
    assert all(second.assignments[k] == s for k, s in first.assignments.items())


def test_it_sends_new_cluster_members_to_the_split_of_the_cluster():
    old = [SplitItem(key=f"e{i}", group="g") for i in range(3)]
    first = assign_splits(old, ratios=RATIOS, seed=0)
    (split,) = set(first.assignments.values())
    grown = _with_current(old, first) + [SplitItem(key="a-new-smallest-key", group="g")]
    assert assign_splits(grown, ratios=RATIOS, seed=0).assignments["a-new-smallest-key"] == split


@given(item_lists, st.data())
def test_it_keeps_manual_overrides(items, data):
    overrides = {
        i.key: data.draw(st.sampled_from(SPLITS)) for i in items if data.draw(st.booleans())
    }
    pinned = [SplitItem(i.key, i.group, i.stratum, override=overrides.get(i.key)) for i in items]
    result = assign_splits(pinned, ratios=RATIOS, seed=2, stratify=data.draw(st.booleans()))
    for key, split in overrides.items():
        assert result.assignments[key] == split


def test_it_resplits_from_scratch_when_asked():
    items = [SplitItem(key=f"e{i}", current="test") for i in range(200)]
    kept = assign_splits(items, ratios=RATIOS, seed=0)
    fresh = assign_splits(items, ratios=RATIOS, seed=0, keep_existing=False)
    assert kept.counts["test"] == 200
    assert fresh.counts["train"] > 100


@pytest.mark.parametrize("stratify", [False, True])
def test_it_honours_the_ratios_on_many_examples(stratify):
    items = [SplitItem(key=i, group=i // 3 if i % 7 == 0 else None) for i in range(20_000)]
    counts = assign_splits(items, ratios=RATIOS, seed=5, stratify=stratify).counts
    for split, share in RATIOS.items():
        assert abs(counts[split] / 20_000 - share) < 0.015


def test_it_balances_small_strata_and_reports_their_sizes():
    items = [SplitItem(key=f"r{i}", stratum="rare") for i in range(10)]
    items += [SplitItem(key=f"c{i}", stratum="common") for i in range(1000)]
    result = assign_splits(items, ratios=RATIOS, seed=4, stratify=True)
    assert result.strata["rare"] == {"train": 8, "validation": 1, "test": 1}
    assert sum(result.strata["common"].values()) == 1000
    assert result.counts == {
        s: result.strata["rare"][s] + result.strata["common"][s] for s in SPLITS
    }


def test_it_rejects_an_unknown_override():
    with pytest.raises(SplitConfigError, match="override"):
        assign_splits([SplitItem(key=1, override="holdout")], ratios=RATIOS)


def design_split(seed, group_key, ratios):
    """DESIGN §3, written out: sha256("<seed>\\x00<group key>") read as a fraction in [0, 1)."""
    digest = hashlib.sha256(f"{seed}\x00{group_key}".encode()).digest()
    pos = int.from_bytes(digest[:8], "big") / 2**64
    bound = 0.0
    for name, share in ratios.items():
        bound += share
        if pos < bound:
            return name
    return list(ratios)[-1]


@given(item_lists, st.integers(0, 5), st.sampled_from([RATIOS, {"train": 0.5, "test": 0.5}]))
def test_it_places_each_free_group_by_the_design_position_of_its_smallest_key(items, seed, ratios):
    result = assign_splits(items, ratios=ratios, seed=seed)
    smallest: dict = {}
    for item in items:
        gid = ("g", item.group) if item.group is not None else ("k", item.key)
        smallest[gid] = min(smallest.get(gid, item.key), item.key)
    for item in items:
        gid = ("g", item.group) if item.group is not None else ("k", item.key)
        assert result.assignments[item.key] == design_split(seed, str(smallest[gid]), ratios)


@given(item_lists, st.data())
def test_it_takes_plain_tuples_as_split_items(items, data):
    pinned = [
        SplitItem(
            i.key,
            i.group,
            i.stratum,
            current=data.draw(st.sampled_from([None, *SPLITS])),
            override=data.draw(st.sampled_from([None, None, *SPLITS])),
        )
        for i in items
    ]
    stratify = data.draw(st.booleans())
    as_items = assign_splits(pinned, ratios=RATIOS, seed=1, stratify=stratify)
    as_tuples = assign_splits([tuple(i) for i in pinned], ratios=RATIOS, seed=1, stratify=stratify)
    assert as_tuples == as_items
