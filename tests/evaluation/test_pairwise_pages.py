"""The blind review pages: from the compare page to the queue (works with plain form posts),
the results, and saving the picks."""

from __future__ import annotations

import re

import pytest

from datasets_app.models import Example
from evaluation.pairwise_models import PairwiseReview
from tests.evaluation.test_pairwise_service import finished_run
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def runs(suite):
    return finished_run(suite, "tuned-model"), finished_run(suite, "base-model")


def start(client, runs):
    return client.post(f"/evals/runs/{runs[0].pk}/pairwise/", {"against": runs[1].pk})


def test_it_offers_a_blind_review_from_the_compare_page(
    client, owner, teammate, runs, make_user, team
):
    client.force_login(owner)
    page = client.get(f"/evals/runs/{runs[0].pk}/compare/?against={runs[1].pk}").content.decode()
    assert "Review blind" in page
    response = start(client, runs)
    review = PairwiseReview.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/evals/reviews/{review.pk}/"
    page = client.get(f"/evals/runs/{runs[0].pk}/compare/?against={runs[1].pk}").content.decode()
    assert f"/evals/reviews/{review.pk}/results/" in page
    client.force_login(teammate)  # an annotator judges but does not start reviews
    page = client.get(f"/evals/runs/{runs[0].pk}/compare/?against={runs[1].pk}").content.decode()
    assert "Review blind" not in page and f"/evals/reviews/{review.pk}/" in page
    viewer = make_user("vera")
    MembershipFactory(team=team, user=viewer, role="viewer")
    client.force_login(viewer)  # a viewer reads the results, is offered no queue
    page = client.get(f"/evals/runs/{runs[0].pk}/compare/?against={runs[1].pk}").content.decode()
    assert f'href="/evals/reviews/{review.pk}/"' not in page
    assert f"/evals/reviews/{review.pk}/results/" in page


def test_it_says_why_a_review_cannot_start(client, owner, suite, runs):
    client.force_login(owner)
    running = finished_run(suite, "busy", status="running")
    response = client.post(f"/evals/runs/{runs[0].pk}/pairwise/", {"against": running.pk})
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "is running; a review needs two finished runs" in page
    assert not PairwiseReview.objects.exists()


def test_it_walks_the_queue_with_plain_form_posts(client, owner, teammate, runs):
    client.force_login(owner)
    start(client, runs)
    review = PairwiseReview.objects.get()
    client.force_login(teammate)
    queue = f"/evals/reviews/{review.pk}/"
    for number in range(1, 6):
        page = client.get(queue).content.decode()
        assert f"{number} of 5" in page
        # blind: neither model is named anywhere but inside the answers themselves
        outside_answers = re.sub(r"(tuned|base)-model answer \d", "", page)
        assert "tuned-model" not in outside_answers and "base-model" not in outside_answers
        assert f"run #{runs[0].pk}" not in page
        for key in ("a", "b", "t", "s"):
            assert f'data-shortcut="{key}"' in page
        item = re.search(r'name="item" value="(\d+)"', page).group(1)
        choice = "skip" if number == 5 else "a"
        response = client.post(f"{queue}judge/", {"item": item, "choice": choice})
        assert response.status_code == 302 and response["Location"] == queue
    page = client.get(queue).content.decode()
    assert "Nothing left to judge" in page and "4 of 5 judged" not in page


def test_it_shows_the_results_and_saves_the_picks(client, owner, runs, dataset):
    client.force_login(owner)
    start(client, runs)
    review = PairwiseReview.objects.get()
    queue = f"/evals/reviews/{review.pk}/"
    for _ in range(5):
        page = client.get(queue).content.decode()
        item = re.search(r'name="item" value="(\d+)"', page).group(1)
        a_is_tuned = page.index("tuned-model answer") < page.index("base-model answer")
        client.post(f"{queue}judge/", {"item": item, "choice": "a" if a_is_tuned else "tie"})
    page = client.get(f"{queue}results/").content.decode()
    assert "Ties count as half a win" in page
    assert "Wilson 95 % interval" in page
    assert "alice" in page and "Save as preference pairs" in page
    response = client.post(f"{queue}save-preferences/", {"dataset": dataset.pk}, follow=True)
    created = Example.objects.filter(dataset=dataset, source_format="pairwise_review").count()
    assert f"{created} preference pair(s) saved to support-chats" in response.content.decode()
    again = client.post(f"{queue}save-preferences/", {"dataset": dataset.pk}, follow=True)
    assert f"{created} already there (skipped)" in again.content.decode()


def test_it_refuses_saving_without_a_dataset(client, owner, runs, other_dataset):
    client.force_login(owner)
    start(client, runs)
    review = PairwiseReview.objects.get()
    url = f"/evals/reviews/{review.pk}/save-preferences/"
    for body in ({}, {"dataset": other_dataset.pk}):
        response = client.post(url, body, follow=True)
        assert "Choose a dataset of the review&#x27;s team." in response.content.decode()
    assert not Example.objects.filter(source_format="pairwise_review").exists()


def test_it_hides_reviews_from_other_teams(client, owner, outsider, runs):
    client.force_login(owner)
    start(client, runs)
    review = PairwiseReview.objects.get()
    client.force_login(outsider)
    assert client.get(f"/evals/reviews/{review.pk}/").status_code == 404
    assert client.get(f"/evals/reviews/{review.pk}/results/").status_code == 404
