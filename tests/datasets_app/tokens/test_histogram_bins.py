"""Histograms of skewed data choose log or quantile bins by themselves (issue 16.10g)."""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from datasets_app.checks_charts import histogram_chart
from datasets_app.tokens import histogram
from datasets_app.tokens.stats import histogram_edges


def _long_tail(n=5000, seed=0):
    # token lengths as real files have them: most a few hundred, a tail up to 100,000
    rng = np.random.default_rng(seed)
    values = np.clip(rng.lognormal(mean=5.5, sigma=1.0, size=n), 1, 100_000).astype(int)
    return [int(v) for v in values] + [1, 60_000, 100_000]


def test_it_spreads_a_long_tail_over_at_least_five_bars():
    values = _long_tail()
    equal_width = np.histogram(values, bins=20)[0]
    assert np.count_nonzero(equal_width) <= 4  # what the overview drew before
    bins = histogram(values, bins=20)
    assert sum(1 for _, _, count in bins if count) >= 5
    assert histogram_edges(values, 20)[1] == "log"
    assert sum(count for _, _, count in bins) == len(values)


def test_it_keeps_equal_widths_for_data_that_is_not_skewed():
    values = list(range(1, 100_001))
    edges, rule = histogram_edges(values, 20)
    assert rule == "linear" and len(edges) == 21
    assert histogram_chart(histogram(values))["uneven"] is False


def test_it_uses_quantile_bins_for_skew_over_a_narrow_range():
    values = [1000.0] * 900 + [1000.0 + i for i in range(100)]
    edges, rule = histogram_edges(values, 20)
    assert rule == "quantile"


def test_it_tells_the_reader_that_the_bins_widen():
    chart = histogram_chart(histogram(_long_tail()))
    assert chart["uneven"] is True


@given(
    st.lists(
        st.one_of(
            st.integers(min_value=0, max_value=10**6),
            st.integers(min_value=0, max_value=50),
        ),
        min_size=1,
        max_size=300,
    ),
    st.integers(1, 40),
)
def test_every_value_lands_in_exactly_one_bin_whatever_the_rule(values, bins):
    result = histogram(values, bins=bins)
    assert sum(c for _, _, c in result) == len(values)
    assert result[0][0] <= min(values) and result[-1][1] >= max(values)
    assert all(lo < hi for lo, hi, _ in result)
    assert len(result) <= max(bins, max(values) - min(values) + 1)


@given(st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=1, max_size=200))
def test_float_data_is_binned_completely(values):
    result = histogram(values, bins=20)
    assert sum(c for _, _, c in result) == len(values)
