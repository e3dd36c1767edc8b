"""evaluation.pairwise, pure: the A/B draw, choices in the runs' terms, and the summary."""

from __future__ import annotations

import random

import krippendorff
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evaluation import stats
from evaluation.evaluators.judge import pairwise_order
from evaluation.pairwise import Judgment, pairwise_summary, shown_swapped, winner_of

WINNERS = st.sampled_from(["run", "against", "tie", None])
JUDGMENTS = st.lists(
    st.builds(
        Judgment,
        item=st.integers(0, 15),
        reviewer=st.sampled_from(["ann", "bo", "cy"]),
        winner=WINNERS,
        seconds=st.one_of(st.none(), st.floats(0, 600)),
    ),
    max_size=60,
    unique_by=lambda j: (j.item, j.reviewer),
)


def test_it_draws_the_order_as_the_llm_judge_does():
    assert [shown_swapped(3, p) for p in range(50)] == [
        pairwise_order(3, str(p)) for p in range(50)
    ]


@given(st.sampled_from(["a", "b", "tie"]), st.booleans())
def test_it_maps_a_choice_back_to_the_run_that_was_shown(choice, swapped):
    winner = winner_of(choice, swapped=swapped)
    if choice == "tie":
        assert winner == "tie"
    else:
        shown_first = "against" if swapped else "run"
        assert (winner == shown_first) == (choice == "a")
        # the same answer picked under the other layout is the other letter
        other = "b" if choice == "a" else "a"
        assert winner_of(other, swapped=not swapped) == winner


def test_it_refuses_a_choice_it_does_not_know():
    with pytest.raises(ValueError):
        winner_of("left", swapped=False)


@settings(max_examples=300, deadline=None)
@given(JUDGMENTS)
def test_it_adds_up_the_same_whatever_the_order(judgments):
    summary = pairwise_summary(judgments)
    assert summary["wins"] + summary["losses"] + summary["ties"] == summary["n"]
    assert summary["n"] + summary["skipped"] == len(judgments)
    expected = stats.win_rate(summary["wins"], summary["losses"], summary["ties"])
    assert (summary["win_rate"], summary["ci_low"], summary["ci_high"]) == (
        expected.mean,
        expected.ci_low,
        expected.ci_high,
    )
    if summary["n"]:
        assert 0 <= summary["ci_low"] <= summary["win_rate"] <= summary["ci_high"] <= 1
    for key in ("wins", "losses", "ties", "skipped", "n"):
        assert sum(r[key] for r in summary["per_reviewer"]) == summary[key]
    shuffled = list(judgments)
    random.Random(0).shuffle(shuffled)
    again = pairwise_summary(shuffled)
    for key in ("wins", "losses", "ties", "n", "win_rate", "ci_low", "ci_high", "agreement"):
        assert again[key] == summary[key]


@settings(max_examples=200, deadline=None)
@given(JUDGMENTS)
def test_it_reports_krippendorffs_alpha_as_the_package_computes_it(judgments):
    alpha = pairwise_summary(judgments)["agreement"]["alpha"]
    code = {"run": 0.0, "against": 1.0, "tie": 2.0}
    reviewers = ["ann", "bo", "cy"]
    items = sorted({j.item for j in judgments})
    matrix = np.full((len(reviewers), max(len(items), 1)), np.nan)
    for j in judgments:
        if j.winner is not None:
            matrix[reviewers.index(j.reviewer), items.index(j.item)] = code[j.winner]
    shared = [col for col in matrix.T if np.sum(~np.isnan(col)) >= 2]
    if alpha["value"] is None:
        return  # undefined (no pairable values or one value only): the package raises or NaNs
    reference = krippendorff.alpha(
        reliability_data=np.array(shared).T, level_of_measurement="nominal"
    )
    assert alpha["value"] == pytest.approx(reference, abs=1e-9)


def test_it_leaves_skips_and_single_reviewers_out_of_agreement():
    summary = pairwise_summary(
        [
            Judgment(1, "ann", "run"),
            Judgment(1, "bo", None),
            Judgment(2, "ann", "tie"),
            Judgment(2, "bo", "tie"),
            Judgment(3, "bo", "against"),
        ]
    )
    agreement = summary["agreement"]
    assert (agreement["items"], agreement["agreed_items"]) == (1, 1)
    assert agreement["alpha"]["value"] is None and agreement["alpha"]["reason"]
    assert summary["per_reviewer"][1]["skipped"] == 1
    assert summary["ties_rule"] == "ties count as half a win"
