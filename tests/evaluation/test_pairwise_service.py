"""The blind pairwise review's services: create, the next item under a claim, judge, skip,
results, and saving the picks as preference pairs."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied

from datasets_app.checks.preference import split_pair
from datasets_app.models import Example
from evaluation.models import EvalResult, EvalRun
from evaluation.pairwise_models import PairwiseItem, PairwiseReview
from evaluation.services.items import suite_items
from evaluation.services.pairwise import (
    pairwise_item_next,
    pairwise_judge,
    pairwise_results,
    pairwise_review_create,
    pairwise_skip,
)
from evaluation.services.pairwise_preferences import pairwise_preferences_save
from finetunedb.exceptions import ApplicationError, ConflictError
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db


def finished_run(suite, label: str, status: str = "succeeded", model=None) -> EvalRun:
    run = EvalRun.objects.create(
        suite=suite, base_model="" if model else label, model=model, status=status
    )
    for position, item in enumerate(suite_items(suite)):
        EvalResult.objects.create(
            run=run,
            entry_id=item.entry_id,
            position=position,
            reference=item.reference,
            output=f"{label} answer {position}",
            scores={},
        )
    return run


@pytest.fixture
def runs(suite):
    return finished_run(suite, "tuned-model"), finished_run(suite, "base-model")


@pytest.fixture
def review(owner, runs):
    review, created = pairwise_review_create(user=owner, run=runs[0], against=runs[1], seed=7)
    assert created
    return review


@pytest.fixture
def second_reviewer(make_user, team):
    user = make_user("dana")
    MembershipFactory(team=team, user=user, role="annotator")
    return user


def test_it_pairs_the_items_both_runs_answered_with_a_seeded_order(owner, runs, suite):
    run, against = runs
    review, _ = pairwise_review_create(user=owner, run=run, against=against, seed=7)
    items = list(review.items.order_by("position"))
    assert review.item_count == len(items) == len(suite_items(suite)) == 5
    assert [i.result.run_id for i in items] == [run.pk] * 5
    assert [i.against_result.run_id for i in items] == [against.pk] * 5
    layout = [i.swapped for i in items]
    PairwiseReview.objects.all().delete()
    again, _ = pairwise_review_create(user=owner, run=run, against=against, seed=7)
    assert [i.swapped for i in again.items.order_by("position")] == layout


def test_it_balances_which_run_is_shown_first_over_many_items(owner, runs):
    from evaluation.pairwise import shown_swapped

    draws = [shown_swapped(12345, position) for position in range(400)]
    assert 0.4 < sum(draws) / len(draws) < 0.6
    assert draws != [shown_swapped(54321, p) for p in range(400)]


def test_it_returns_the_existing_review_of_the_same_two_runs(owner, runs, review):
    again, created = pairwise_review_create(user=owner, run=runs[0], against=runs[1])
    assert (again.pk, created) == (review.pk, False)


def test_it_refuses_runs_that_cannot_be_compared(owner, suite, make_suite, runs):
    run, _ = runs
    other_suite = make_suite(name="other")
    elsewhere = finished_run(other_suite, "x")
    running = finished_run(suite, "y", status="running")
    with pytest.raises(ApplicationError) as caught:
        pairwise_review_create(user=owner, run=run, against=elsewhere)
    assert caught.value.errors[0]["path"] == "against"
    with pytest.raises(ApplicationError) as caught:
        pairwise_review_create(user=owner, run=run, against=run)
    assert caught.value.errors[0]["path"] == "against"
    with pytest.raises(ConflictError) as caught:
        pairwise_review_create(user=owner, run=running, against=run)
    assert caught.value.errors[0]["path"] == "run"
    with pytest.raises(ConflictError) as caught:
        pairwise_review_create(user=owner, run=run, against=running)
    assert caught.value.errors[0]["path"] == "against"
    assert not PairwiseReview.objects.exists()


def test_it_lets_annotators_judge_but_not_create(teammate, runs, review):
    with pytest.raises(PermissionDenied):
        pairwise_review_create(user=teammate, run=runs[1], against=runs[0])
    item = pairwise_item_next(user=teammate, review=review)
    assert pairwise_judge(user=teammate, review=review, item_id=item.pk, winner="a").choice == "a"


def test_it_shows_two_reviewers_different_items_while_others_wait(owner, teammate, review):
    first = pairwise_item_next(user=owner, review=review)
    second = pairwise_item_next(user=teammate, review=review)
    assert first.pk != second.pk
    # asking again keeps your own item until you judge it
    assert pairwise_item_next(user=owner, review=review).pk == first.pk
    pairwise_judge(user=owner, review=review, item_id=first.pk, winner="tie")
    third = pairwise_item_next(user=owner, review=review)
    assert third.pk not in (first.pk, second.pk)


def test_it_shows_an_item_held_by_another_when_nothing_else_waits(owner, teammate, review):
    held = []
    for _ in range(5):
        item = pairwise_item_next(user=teammate, review=review)
        held.append(item.pk)
        PairwiseItem.objects.filter(pk=item.pk).update(claimed_by=teammate)  # keep holding it
        pairwise_skip(user=teammate, review=review, item_id=item.pk)
        PairwiseItem.objects.filter(pk=item.pk).update(
            claimed_by=teammate, claimed_until="2999-01-01T00:00:00Z"
        )
    shown = pairwise_item_next(user=owner, review=review)
    assert shown is not None and shown.pk in held


def test_it_ends_the_queue_once_every_item_is_judged_or_skipped(owner, review):
    for n in range(5):
        item = pairwise_item_next(user=owner, review=review)
        if n % 2:
            pairwise_skip(user=owner, review=review, item_id=item.pk)
        else:
            pairwise_judge(user=owner, review=review, item_id=item.pk, winner="b")
    assert pairwise_item_next(user=owner, review=review) is None


def test_it_stores_a_judgment_once_with_the_time_taken(owner, review):
    item = pairwise_item_next(user=owner, review=review)
    judgment = pairwise_judge(user=owner, review=review, item_id=item.pk, winner="a")
    assert judgment.seconds is not None and judgment.seconds >= 0
    assert judgment.winner == ("against" if item.swapped else "run")
    with pytest.raises(ConflictError):
        pairwise_judge(user=owner, review=review, item_id=item.pk, winner="b")


def test_it_names_the_field_of_a_bad_judgment(owner, review, runs):
    item = pairwise_item_next(user=owner, review=review)
    with pytest.raises(ApplicationError) as caught:
        pairwise_judge(user=owner, review=review, item_id=item.pk, winner="left")
    assert caught.value.errors[0]["path"] == "winner"
    with pytest.raises(ApplicationError) as caught:
        pairwise_judge(user=owner, review=review, item_id=999_999, winner="a")
    assert caught.value.errors[0]["path"] == "item"


def _judge_as(user, review, winners: list[str]):
    """``winners`` in the runs' terms per position: the choice is mapped to A/B as shown."""
    for item in review.items.order_by("position"):
        want = winners[item.position]
        if want == "skip":
            pairwise_skip(user=user, review=review, item_id=item.pk)
            continue
        shown = want if want == "tie" else ("a" if (want == "run") != item.swapped else "b")
        pairwise_judge(user=user, review=review, item_id=item.pk, winner=shown)


def test_it_reports_the_win_rate_with_ties_as_half(owner, teammate, second_reviewer, review):
    _judge_as(owner, review, ["run", "run", "against", "tie", "run"])
    _judge_as(teammate, review, ["run", "run", "run", "tie", "against"])
    first = review.items.get(position=0)
    pairwise_skip(user=second_reviewer, review=review, item_id=first.pk)
    results = pairwise_results(review=review)
    assert (results["wins"], results["losses"], results["ties"], results["skipped"]) == (6, 2, 2, 1)
    # stats.win_rate(6, 2, 2) is Wilson of 7 out of 10: tests/evaluation/test_stats.py's
    # scipy reference values
    assert (results["n"], results["win_rate"]) == (10, 0.7)
    assert results["ci_low"] == pytest.approx(0.39677814746114526, abs=1e-9)
    assert results["ci_high"] == pytest.approx(0.892208732593699, abs=1e-9)
    assert results["ties_rule"] == "ties count as half a win"
    by_name = {r["username"]: r for r in results["per_reviewer"]}
    assert (by_name["alice"]["wins"], by_name["alice"]["losses"]) == (3, 1)
    assert (by_name["dana"]["n"], by_name["dana"]["skipped"], by_name["dana"]["win_rate"]) == (
        0,
        1,
        None,
    )
    agreement = results["agreement"]
    assert (agreement["items"], agreement["agreed_items"]) == (5, 3)
    assert agreement["alpha"]["value"] is not None
    (kappa,) = agreement["kappa"]
    # observed 3/5, expected (3*3 + 1*1 + 1*1)/25: kappa = (0.6 - 0.44) / 0.56 = 2/7
    assert kappa["usernames"] == ["alice", "bob"] and kappa["n"] == 5
    assert kappa["value"] == pytest.approx(2 / 7)


def test_it_saves_decisive_picks_as_preference_pairs(owner, teammate, review, dataset, runs):
    _judge_as(owner, review, ["run", "against", "tie", "skip", "run"])
    _judge_as(teammate, review, ["run", "skip", "skip", "skip", "skip"])
    saved = pairwise_preferences_save(user=owner, review=review, dataset=dataset)
    # alice's pick on item 0 and bob's are the same pair: one is a duplicate
    assert (len(saved.created), saved.skipped_duplicates, saved.skipped_ties) == (3, 1, 1)
    examples = Example.objects.filter(pk__in=saved.created).order_by("pk")
    first = examples[0].current_revision
    pair = split_pair({"messages": first.messages, "metadata": first.metadata})
    assert pair.prompt == [suite_items(review.run.suite)[0].messages[0]]
    assert pair.chosen[0]["content"] == "tuned-model answer 0"
    assert pair.rejected[0]["content"] == "base-model answer 0"
    meta = first.metadata
    assert (meta["picked_by"], meta["chosen_model"], meta["rejected_model"]) == (
        "alice",
        "tuned-model",
        "base-model",
    )
    assert (meta["chosen_run"], meta["rejected_run"]) == (runs[0].pk, runs[1].pk)
    second = examples[1].current_revision
    assert second.metadata["chosen_model"] == "base-model"
    assert {e.source_format for e in examples} == {"pairwise_review"}
    again = pairwise_preferences_save(user=owner, review=review, dataset=dataset)
    assert (again.created, again.skipped_duplicates) == ([], 4)


def test_it_saves_picks_only_into_the_reviews_team(owner, outsider, review, other_dataset):
    with pytest.raises(ApplicationError) as caught:
        pairwise_preferences_save(user=owner, review=review, dataset=other_dataset)
    assert caught.value.errors[0]["path"] == "dataset"
