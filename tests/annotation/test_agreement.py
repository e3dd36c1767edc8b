"""Agreement coefficients on published worked examples, and their invariants."""

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from annotation.agreement import (
    REASON_KAPPA_FEW,
    REASON_KAPPA_ONE,
    REASON_NO_PAIRS,
    cohen_kappa,
    cohen_kappa_pairwise,
    krippendorff_alpha,
)

N = None

# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", example C: 4 observers,
# 12 units, missing values. The paper gives nominal .743, ordinal .815, interval .849 (n = 40).
PAPER_C = {
    "A": [1, 2, 3, 3, 2, 1, 4, 1, 2, N, N, N],
    "B": [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, N, 3],
    "C": [N, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, N],
    "D": [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, N],
}
# Example A of the same paper: binary data, two observers, no missing values; alpha = .095.
PAPER_A = {"A": [0, 1, 0, 0, 0, 0, 0, 0, 1, 0], "B": [1, 1, 1, 0, 0, 1, 0, 0, 0, 0]}
# The `krippendorff` package's README example (3 coders, 15 units): nominal 0.691, interval 0.811.
PACKAGE_README = {
    0: [N, N, N, N, N, 3, 4, 1, 2, 1, 1, 3, 3, N, 3],
    1: [1, N, 2, 1, 3, 3, 4, 3, N, N, N, N, N, N, N],
    2: [N, N, 2, 1, 3, 4, 4, N, 2, 1, 1, 3, 3, N, 4],
}


def by_item(columns):
    length = len(next(iter(columns.values())))
    return {i: {coder: values[i] for coder, values in columns.items()} for i in range(length)}


@pytest.mark.parametrize(
    ("level", "expected"), [("nominal", 0.743), ("ordinal", 0.815), ("interval", 0.849)]
)
def test_it_matches_krippendorffs_worked_example_with_missing_values(level, expected):
    result = krippendorff_alpha(by_item(PAPER_C), level=level)
    assert result.value == pytest.approx(expected, abs=5e-4)
    assert result.n == 40
    assert result.reason is None


def test_it_matches_the_binary_two_observer_example():
    assert krippendorff_alpha(by_item(PAPER_A)).value == pytest.approx(0.095, abs=5e-4)


@pytest.mark.parametrize(("level", "expected"), [("nominal", 0.691), ("interval", 0.811)])
def test_it_matches_the_krippendorff_package_readme(level, expected):
    result = krippendorff_alpha(by_item(PACKAGE_README), level=level)
    assert result.value == pytest.approx(expected, abs=5e-4)


def test_it_says_why_alpha_is_undefined_without_pairable_ratings():
    result = krippendorff_alpha({1: {"a": "x"}, 2: {"b": "y", "c": None}})
    assert result.value is None
    assert result.reason == REASON_NO_PAIRS


def test_it_says_why_alpha_is_undefined_with_a_single_value():
    result = krippendorff_alpha({1: {"a": "x", "b": "x"}, 2: {"a": "x", "b": "x"}})
    assert result.value is None
    assert "same value" in result.reason


def test_it_rejects_text_for_interval_data_naming_the_rating():
    with pytest.raises(ValueError, match="item 2, annotator 'b': 'high' is not a number"):
        krippendorff_alpha({1: {"a": 1, "b": 2}, 2: {"a": 1, "b": "high"}}, level="interval")


def test_it_rejects_unorderable_ordinal_data():
    with pytest.raises(ValueError, match="cannot be compared"):
        krippendorff_alpha({1: {"a": 1, "b": "x"}}, level="ordinal")


def test_it_rejects_an_unknown_level():
    with pytest.raises(ValueError, match="level must be one of"):
        krippendorff_alpha({}, level="ratio")


def test_it_matches_the_textbook_kappa():
    # 50 items: yes/yes 20, yes/no 5, no/yes 10, no/no 15 -> po .7, pe .5, kappa .4
    pairs = [("y", "y")] * 20 + [("y", "n")] * 5 + [("n", "y")] * 10 + [("n", "n")] * 15
    result = cohen_kappa(
        {i: a for i, (a, _) in enumerate(pairs)}, {i: b for i, (_, b) in enumerate(pairs)}
    )
    assert result.value == pytest.approx(0.4)
    assert result.n == 50


def test_it_gives_kappa_for_every_pair_with_its_item_count():
    ratings = {
        1: {"ann": "a", "bob": "a", "cy": "b"},
        2: {"ann": "b", "bob": "b"},
        3: {"ann": "a", "bob": "b", "cy": "a"},
    }
    pairs = cohen_kappa_pairwise(ratings)
    assert set(pairs) == {("ann", "bob"), ("ann", "cy"), ("bob", "cy")}
    assert pairs[("ann", "bob")].n == 3
    assert pairs[("ann", "bob")].value == pytest.approx((2 / 3 - 4 / 9) / (1 - 4 / 9))
    assert pairs[("ann", "cy")].value == pytest.approx(0.0)
    assert pairs[("bob", "cy")].value == pytest.approx(-1.0)


def test_it_says_why_kappa_is_undefined():
    assert cohen_kappa({1: "a"}, {1: "a", 2: "b"}).reason == REASON_KAPPA_FEW
    one = cohen_kappa({1: "a", 2: "a"}, {1: "a", 2: "a"})
    assert one.value is None
    assert one.reason == REASON_KAPPA_ONE.format(value="a")


labels = st.sampled_from(["pos", "neg", "neutral"])
numbers = st.integers(min_value=1, max_value=7)
annotators = st.lists(st.sampled_from("abcdef"), min_size=2, max_size=5, unique=True)


@st.composite
def rating_tables(draw, values=labels):
    coders = draw(annotators)
    items = draw(st.integers(min_value=1, max_value=12))
    return {item: {c: draw(st.one_of(st.none(), values)) for c in coders} for item in range(items)}


@settings(max_examples=60, deadline=None)
@given(
    st.lists(labels, min_size=2, max_size=15), annotators, st.sampled_from(["nominal", "ordinal"])
)
def test_it_gives_one_for_perfect_agreement(truth, coders, level):
    ratings = {i: {c: label for c in coders} for i, label in enumerate(truth)}
    result = krippendorff_alpha(ratings, level=level)
    if len(set(truth)) > 1:
        assert result.value == 1.0
        assert all(k.value == 1.0 for k in cohen_kappa_pairwise(ratings).values())
    else:
        assert result.value is None


@settings(max_examples=60, deadline=None)
@given(rating_tables(numbers), st.sampled_from(["nominal", "ordinal", "interval"]), st.randoms())
def test_it_does_not_depend_on_the_order_of_annotators_or_items(ratings, level, rnd: random.Random):
    expected = krippendorff_alpha(ratings, level=level)
    items = list(ratings)
    rnd.shuffle(items)
    shuffled = {}
    for item in items:
        row = list(ratings[item].items())
        rnd.shuffle(row)
        shuffled[item] = dict(row)
    assert krippendorff_alpha(shuffled, level=level) == expected
    # Renaming annotators per item (any coder may rate any unit) changes nothing either.
    renamed = {
        item: {f"x{j}": v for j, v in enumerate(row.values())} for item, row in shuffled.items()
    }
    assert krippendorff_alpha(renamed, level=level) == expected


@settings(max_examples=60, deadline=None)
@given(rating_tables())
def test_it_gives_the_same_kappa_whichever_annotator_comes_first(ratings):
    coders = sorted({c for row in ratings.values() for c in row})
    for a, b in zip(coders, coders[1:]):
        first = {i: row[a] for i, row in ratings.items() if a in row}
        second = {i: row[b] for i, row in ratings.items() if b in row}
        assert cohen_kappa(first, second) == cohen_kappa(second, first)


@settings(max_examples=60, deadline=None)
@given(rating_tables(numbers), st.sampled_from(["nominal", "ordinal", "interval"]))
def test_it_keeps_alpha_at_most_one(ratings, level):
    result = krippendorff_alpha(ratings, level=level)
    assert result.value is None or result.value <= 1.0 + 1e-12
    assert (result.value is None) == (result.reason is not None)


def _matrix(ratings, coders):
    """The krippendorff package's reliability matrix: a row per coder, NaN for missing."""
    import numpy as np

    return np.array(
        [[np.nan if row.get(c) is None else row[c] for row in ratings.values()] for c in coders],
        dtype=float,
    )


@settings(max_examples=150, deadline=None)
@given(rating_tables(numbers), st.sampled_from(["nominal", "ordinal", "interval"]))
def test_it_equals_the_krippendorff_package(ratings, level):
    """Our alpha against the reference implementation, missing values included."""
    import warnings

    import krippendorff
    import numpy as np

    ours = krippendorff_alpha(ratings, level=level)
    coders = sorted({c for row in ratings.values() for c in row})
    data = _matrix(ratings, coders)
    if ours.value is None:
        # Undefined for us (no pairable values, or one value only): the package has no
        # finite answer either (it raises or returns NaN).
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                theirs = krippendorff.alpha(reliability_data=data, level_of_measurement=level)
            except (ValueError, ZeroDivisionError, AssertionError):
                return
        assert not np.isfinite(theirs)
        return
    theirs = krippendorff.alpha(reliability_data=data, level_of_measurement=level)
    assert ours.value == pytest.approx(theirs, abs=1e-9)
