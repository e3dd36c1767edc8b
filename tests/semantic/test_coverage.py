"""The coverage plan's arithmetic (semantic/coverage.py): shares, gaps in examples, plan checks."""

from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from semantic.coverage import (
    Bucket,
    Row,
    Target,
    gap_add,
    gap_remove,
    metadata_text,
    percent_parse,
    plan_problems,
    plan_status,
    status,
)

REFUNDS = Bucket("tag", "refunds")
REFUSALS = Bucket("tag", "refusal")


def target(bucket=REFUNDS, mode="about", share=20, tolerance=0, split=""):
    return Target(bucket, mode, Fraction(share), Fraction(tolerance), split)


def test_it_counts_the_worked_example_of_the_docstring():
    s = status(target(), total=100, count=10)
    assert (s.add, s.remove, s.state) == (13, 0, "under")
    assert s.share == Fraction(1, 10)


def test_it_says_how_many_to_remove_above_a_maximum():
    s = status(target(REFUSALS, "max", 5), total=100, count=20)
    # (20 - y) / (100 - y) <= 1/20  ->  y >= 15.79
    assert (s.add, s.remove, s.state) == (0, 16, "over")


def test_it_meets_a_target_within_its_tolerance():
    assert status(target(share=20, tolerance=2), total=100, count=19).state == "met"
    assert status(target(share=20, tolerance=2), total=100, count=23).remove == 2


def test_it_handles_an_empty_dataset():
    s = status(target(), total=0, count=0)
    assert s.share is None and (s.add, s.remove, s.state) == (1, 0, "under")
    assert status(target(mode="max"), total=0, count=0).state == "met"
    assert status(target(share=0), total=0, count=0).state == "met"


def test_it_says_no_number_of_additions_reaches_100_percent_with_others_left():
    assert status(target(mode="min", share=100), total=10, count=9).add is None
    assert status(target(mode="min", share=100), total=10, count=9).state == "under"
    assert status(target(mode="min", share=100), total=10, count=10).state == "met"


shares = st.integers(0, 10_000).map(lambda n: Fraction(n, 100))


@given(count=st.integers(0, 5_000), extra=st.integers(0, 5_000), low=shares)
def test_it_adds_the_fewest_examples_that_reach_the_lower_bound(count, extra, low):
    total = count + extra
    x = gap_add(count, total, low / 100)
    if x is None:
        assert low == 100 and extra > 0
        return
    assert total + x > 0 or low == 0
    if total + x:
        assert Fraction(count + x, total + x) >= low / 100
    if x > 0 and total + x - 1 > 0:
        assert Fraction(count + x - 1, total + x - 1) < low / 100


@given(count=st.integers(0, 5_000), extra=st.integers(0, 5_000), high=shares)
def test_it_removes_the_fewest_examples_that_get_under_the_upper_bound(count, extra, high):
    total = count + extra
    y = gap_remove(count, total, high / 100)
    assert 0 <= y <= count
    if total - y:
        assert Fraction(count - y, total - y) <= high / 100
    if y > 0:
        assert Fraction(count - y + 1, total - y + 1) > high / 100


rows = st.lists(
    st.builds(
        Row,
        split=st.sampled_from(["train", "validation", "test"]),
        tags=st.frozensets(st.sampled_from(["a", "b", "c"])),
        metadata=st.dictionaries(st.sampled_from(["lang"]), st.sampled_from(["en", "de", 1])),
        topic=st.one_of(st.none(), st.integers(0, 3)),
    ),
    max_size=60,
)


@given(rows=rows)
def test_it_counts_disjoint_buckets_to_at_most_the_whole(rows):
    topics = [target(Bucket("topic", str(t)), "min", 0) for t in range(4)]
    langs = [target(Bucket("metadata", v, key="lang"), "min", 0) for v in ("en", "de", "1")]
    for plan in (topics, langs):
        found = plan_status(rows, plan)
        assert sum(s.count for s in found) <= len(rows)
        for s, t in zip(found, plan, strict=True):
            assert s.total == len(rows)
            assert s.count == sum(1 for r in rows if _naive(r, t.bucket))


@given(rows=rows, split=st.sampled_from(["", "train", "test"]))
def test_it_counts_overlapping_tags_each_on_its_own(rows, split):
    plan = [target(Bucket("tag", t), "min", 0, split=split) for t in ("a", "b", "c")]
    found = plan_status(rows, plan)
    scoped = [r for r in rows if not split or r.split == split]
    for s, t in zip(found, plan, strict=True):
        assert s.total == len(scoped)
        assert s.count == sum(1 for r in scoped if t.bucket.value in r.tags)
    # an example counts once in each of its tags, so overlapping buckets may sum past the whole
    assert sum(s.count for s in found) == sum(len(r.tags) for r in scoped)


def _naive(row, bucket):
    if bucket.kind == "topic":
        return row.topic == int(bucket.value)
    return (
        str(row.metadata.get(bucket.key)) == bucket.value if bucket.key in row.metadata else False
    )


def test_it_refuses_disjoint_targets_that_sum_past_100_percent():
    plan = [
        target(Bucket("topic", "0"), "min", 60),
        target(Bucket("topic", "1"), "about", 50, tolerance=5),
        target(Bucket("topic", "2"), "max", 90),
    ]
    problems = plan_problems(plan)
    assert [(p["index"], p["field"]) for p in problems] == [(1, "share")]
    assert "105%" in problems[0]["message"] and "topic" in problems[0]["message"]


def test_it_lets_overlapping_tags_sum_past_100_percent():
    assert (
        plan_problems(
            [target(Bucket("tag", "a"), "min", 60), target(Bucket("tag", "b"), "min", 60)]
        )
        == []
    )


def test_it_sums_each_split_and_metadata_key_on_its_own():
    plan = [
        target(Bucket("metadata", "en", key="lang"), "min", 70, split="train"),
        target(Bucket("metadata", "de", key="lang"), "min", 70, split="test"),
        target(Bucket("metadata", "x", key="intent"), "min", 70, split="train"),
    ]
    assert plan_problems(plan) == []
    plan.append(target(Bucket("metadata", "de", key="lang"), "min", 31, split="train"))
    assert [p["index"] for p in plan_problems(plan)] == [3]


def test_it_refuses_two_targets_of_one_bucket_and_scope():
    problems = plan_problems([target(), target(mode="max", share=30)])
    assert problems[0]["index"] == 1 and problems[0]["field"] == "bucket"
    assert plan_problems([target(), target(split="train")]) == []


@given(lows=st.lists(st.integers(0, 100), max_size=8))
def test_it_refuses_a_disjoint_plan_exactly_when_its_minimums_sum_past_100(lows):
    plan = [target(Bucket("topic", str(i)), "min", n) for i, n in enumerate(lows)]
    assert bool(plan_problems(plan)) == (sum(lows) > 100)


def test_it_parses_percentages_exactly():
    assert percent_parse("20") == 20
    assert percent_parse(12.5) == Fraction(25, 2)
    assert percent_parse("0.05") == Fraction(1, 20)
    for bad in ("101", -1, "0.001", "abc", True, None, "nan", "inf"):
        assert percent_parse(bad) is None


def test_it_names_metadata_values_as_text():
    assert [metadata_text(v) for v in ("en", True, 3, 2.5, None, [1], {})] == [
        "en", "true", "3", "2.5", None, None, None,
    ]  # fmt: skip
