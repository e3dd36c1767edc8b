"""The LLM judge's pairwise verdicts added up: win rate with ties as half, Wilson interval,
errors counted apart, position bias; for any verdicts and orders."""

from hypothesis import given
from hypothesis import strategies as st

from evaluation.evaluators.judge import judged_summary, pairwise_parse
from evaluation.stats import wilson_interval

VERDICTS = st.lists(st.tuples(st.sampled_from(["a", "b", "tie", None]), st.booleans()), max_size=60)


def test_it_counts_a_worked_example():
    s = judged_summary([("a", False), ("a", True), ("tie", False), ("b", True), (None, False)])
    assert (s["wins"], s["losses"], s["ties"], s["errors"], s["n"]) == (2, 1, 1, 1, 4)
    assert s["win_rate"] == 0.625 and s["ci_low"] < 0.625 < s["ci_high"]
    # shown first and won: ("a", False) and ("b", True); ("a", True) won while shown second
    assert s["position_bias"] == {"first_shown_wins": 2, "decisive": 3, "rate": 2 / 3}


def test_it_has_no_rate_without_a_verdict():
    s = judged_summary([(None, False), (None, True)])
    assert s["n"] == 0 and s["errors"] == 2 and s["win_rate"] is None and s["ci_low"] is None


@given(VERDICTS)
def test_it_adds_up_any_verdicts(judgments):
    s = judged_summary(judgments)
    assert s["wins"] + s["losses"] + s["ties"] + s["errors"] == len(judgments)
    assert s["n"] == len(judgments) - s["errors"]
    if s["n"]:
        expected = wilson_interval(s["wins"] + s["ties"] / 2, s["n"])
        assert s["win_rate"] == expected.mean
        assert 0.0 <= s["ci_low"] <= s["win_rate"] <= s["ci_high"] <= 1.0


@given(VERDICTS)
def test_it_is_the_other_runs_loss_rate_with_the_runs_swapped(judgments):
    flipped = [({"a": "b", "b": "a"}.get(v, v), s) for v, s in judgments]
    ours, theirs = judged_summary(judgments), judged_summary(flipped)
    assert (ours["wins"], ours["losses"]) == (theirs["losses"], theirs["wins"])
    if ours["n"]:
        assert abs(ours["win_rate"] + theirs["win_rate"] - 1.0) < 1e-12


@given(st.lists(st.booleans(), min_size=1, max_size=40))
def test_it_reads_a_judge_that_always_picks_a_as_pure_position_bias(swaps):
    verdicts = [(pairwise_parse('{"winner": "A", "reason": "x"}', swapped=s), s) for s in swaps]
    s = judged_summary(verdicts)
    assert s["position_bias"]["rate"] == 1.0
    assert s["wins"] == sum(1 for x in swaps if not x)
