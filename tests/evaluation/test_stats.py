import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from evaluation import stats

# scipy.stats.t.ppf(0.975, df) for these degrees of freedom.
T_975 = {
    1: 12.706204736174694,
    2: 4.302652729749462,
    5: 2.5705818356363146,
    29: 2.045229642132703,
    100: 1.9839715185235518,
}


@pytest.mark.parametrize("df", sorted(T_975))
def test_it_computes_student_t_quantiles_as_scipy_does(df):
    assert stats.t_quantile(0.975, df) == pytest.approx(T_975[df], rel=1e-9)
    assert stats.t_quantile(0.025, df) == pytest.approx(-T_975[df], rel=1e-9)


def test_it_computes_the_t_interval_from_the_textbook_formula():
    values = [0.2, 0.4, 0.4, 0.5, 0.9, 1.0]
    n = len(values)
    mean = sum(values) / n
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))
    half = T_975[5] * sd / math.sqrt(n)  # t(0.975, n - 1) · s / √n
    interval = stats.mean_interval(values)
    assert interval.mean == pytest.approx(mean)
    assert (interval.ci_low, interval.ci_high) == (
        pytest.approx(mean - half),
        pytest.approx(mean + half),
    )
    assert interval.n == 6 and interval.method == "t"


def test_it_matches_scipy_t_interval():
    # scipy.stats.t.interval(0.95, df=9, loc=np.mean(x), scale=scipy.stats.sem(x)) for x below.
    x = [3, 5, 4, 6, 8, 5, 4, 7, 6, 5]
    interval = stats.mean_interval(x)
    assert (interval.ci_low, interval.ci_high) == (
        pytest.approx(4.230946233100898, abs=1e-9),
        pytest.approx(6.369053766899102, abs=1e-9),
    )


@pytest.mark.parametrize(
    ("successes", "n", "low", "high"),
    [
        # scipy.stats.binomtest(k, n).proportion_ci(0.95, "wilson") (statsmodels'
        # proportion_confint(k, n, method="wilson") gives the same)
        (7, 10, 0.39677814746114526, 0.892208732593699),
        (0, 20, 0.0, 0.16112515805281935),
        (20, 20, 0.8388748419471808, 1.0),
        (45, 100, 0.35614537979511984, 0.5475539700255787),
    ],
)
def test_it_computes_wilson_intervals_as_scipy_does(successes, n, low, high):
    interval = stats.wilson_interval(successes, n)
    assert interval.mean == successes / n
    assert (interval.ci_low, interval.ci_high) == (
        pytest.approx(low, abs=1e-9),
        pytest.approx(high, abs=1e-9),
    )


def test_it_computes_wilson_from_the_textbook_formula():
    k, n, z = 13, 40, 1.959963984540054
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    interval = stats.wilson_interval(k, n)
    assert (interval.ci_low, interval.ci_high) == (
        pytest.approx(centre - half),
        pytest.approx(centre + half),
    )


def test_it_picks_wilson_for_pass_rates_and_t_for_scores():
    assert stats.metric_summary([1, 0, 1, None]).method == "wilson"
    assert stats.metric_summary([1, 0, 1, None]).n == 3
    assert stats.metric_summary([0.5, 1.0, 0.25]).method == "t"
    empty = stats.metric_summary([None, None])
    assert (empty.mean, empty.n) == (None, 0)
    one = stats.mean_interval([0.5])
    assert (one.mean, one.ci_low, one.ci_high) == (0.5, None, None)


def test_it_counts_ties_as_half_a_win():
    rate = stats.win_rate(6, 2, 2)
    assert rate.mean == 0.7 and rate.n == 10
    assert (rate.ci_low, rate.ci_high) == (
        stats.wilson_interval(7, 10).ci_low,
        stats.wilson_interval(7, 10).ci_high,
    )


def test_it_bootstraps_a_paired_difference_reproducibly():
    a = [0, 1, 0, 1, 0, 0, 1, 0, 0, 1] * 5
    b = [1, 1, 0, 1, 1, 0, 1, 1, 0, 1] * 5
    first = stats.paired_bootstrap(a, b, seed=3)
    assert first == stats.paired_bootstrap(a, b, seed=3)
    assert first.mean == pytest.approx(0.3)
    assert 0 < first.ci_low < 0.3 < first.ci_high < 0.6
    same = stats.paired_bootstrap(a, a, seed=3)
    assert (same.mean, same.ci_low, same.ci_high) == (0.0, 0.0, 0.0)
    with pytest.raises(ValueError):
        stats.paired_bootstrap([1], [1, 0])


@given(st.lists(st.floats(0, 1), min_size=2, max_size=50))
def test_it_brackets_the_mean(values):
    interval = stats.mean_interval(values)
    assert interval.ci_low <= interval.mean + 1e-12 and interval.mean <= interval.ci_high + 1e-12


@given(st.integers(0, 500), st.integers(1, 500))
def test_it_keeps_wilson_inside_the_unit_interval(k, n):
    k = min(k, n)
    interval = stats.wilson_interval(k, n)
    assert 0.0 <= interval.ci_low <= interval.mean <= interval.ci_high <= 1.0
