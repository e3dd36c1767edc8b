import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from datasets_app.tokens import ExampleTokens, default_epochs, distribution, histogram, token_stats


@pytest.mark.parametrize(
    ("n", "epochs"),
    [
        (1, 25),
        (3, 25),
        (4, 25),
        (5, 20),
        (10, 10),
        (33, 3),
        (34, 3),
        (8333, 3),
        (8334, 2),
        (12501, 1),
        (100000, 1),
    ],
)
def test_it_picks_the_cookbook_default_epochs(n, epochs):
    assert default_epochs(n) == epochs


def test_it_reports_true_p5_p95_next_to_the_notebook_quantiles():
    values = list(range(1, 101))
    d = distribution(values)
    assert (d.p5, d.p95) == (np.quantile(values, 0.05), np.quantile(values, 0.95))
    assert (
        d.notebook_lines("x")[-1]
        == f"p5 / p95: {np.quantile(values, 0.1)}, {np.quantile(values, 0.9)}"
    )
    assert distribution([]) is None


def test_it_bills_each_example_up_to_the_limit_and_prices_it():
    counts = [ExampleTokens(2, n, 1, True, True) for n in (100, 5000, 20000)]
    stats = token_stats(counts, limit=4096)
    assert stats.n_over_limit == 2
    assert stats.billable_tokens == 100 + 4096 + 4096
    assert stats.epochs == 25 and stats.charged_tokens == 25 * stats.billable_tokens
    assert stats.cost(8.0) == pytest.approx(stats.charged_tokens * 8.0 / 1e6)
    assert stats.cost(8.0, epochs=1) == pytest.approx(stats.billable_tokens * 8.0 / 1e6)
    with pytest.raises(ValueError):
        stats.cost(-1)


def test_it_counts_examples_missing_system_and_user():
    counts = [
        ExampleTokens(2, 9, 1, False, True),
        ExampleTokens(2, 9, 1, True, False),
        ExampleTokens(1, 9, 1, False, False),
    ]
    stats = token_stats(counts)
    assert (stats.n_missing_system, stats.n_missing_user) == (2, 2)
    assert stats.as_dict()["messages"]["max"] == 2


def test_it_gives_small_integer_ranges_one_bin_per_value():
    assert histogram([2, 2, 3, 5], bins=20) == [
        (1.5, 2.5, 2),
        (2.5, 3.5, 1),
        (3.5, 4.5, 0),
        (4.5, 5.5, 1),
    ]
    assert histogram([]) == []


@given(
    st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=200),
    st.integers(1, 40),
)
def test_it_puts_every_value_in_exactly_one_bin(values, bins):
    result = histogram(values, bins=bins)
    assert sum(c for _, _, c in result) == len(values)
    assert result[0][0] <= min(values) and result[-1][1] >= max(values)
    assert all(lo < hi for lo, hi, _ in result)
