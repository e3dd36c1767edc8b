"""Review mode: the queue of examples waiting for review, decided one at a time."""

import pytest

from datasets_app.models import Example


@pytest.fixture
def logged_in(client, owner):
    client.force_login(owner)
    return client


@pytest.fixture
def queue(dataset, owner, make_example):
    return [make_example(dataset, owner, status="needs_review").pk for _ in range(3)]


def test_it_shows_the_first_waiting_example_with_its_neighbours(logged_in, dataset, queue):
    html = logged_in.get(f"/datasets/{dataset.pk}/review/").content.decode()
    assert f"Example {queue[0]}" in html and "Counting the queue" in html
    counted = logged_in.get(
        f"/datasets/{dataset.pk}/review/", {"count": "1", "example": queue[0]}
    ).content.decode()
    assert "1 of 3 waiting" in counted  # the count the page fetches once shown
    assert f"?at={queue[1]}" in html and 'data-shortcut="j"' in html


def test_it_approves_and_moves_to_the_next(logged_in, dataset, queue):
    response = logged_in.post(
        f"/datasets/{dataset.pk}/review/decide/",
        {"example": queue[0], "expected_revision": 1, "decision": "approve"},
    )
    assert response.status_code == 302
    page = logged_in.get(response["Location"]).content.decode()
    assert f"Example {queue[1]}" in page
    assert Example.objects.get(pk=queue[0]).status == "approved"


def test_it_refuses_a_stale_decision(logged_in, dataset, queue):
    Example.objects.filter(pk=queue[0]).update(revision=5)
    logged_in.post(
        f"/datasets/{dataset.pk}/review/decide/",
        {"example": queue[0], "expected_revision": 1, "decision": "reject"},
    )
    assert Example.objects.get(pk=queue[0]).status == "needs_review"


def test_it_includes_drafts_only_when_asked(logged_in, dataset, owner, make_example):
    draft = make_example(dataset, owner)
    assert (
        "Nothing needs review: 1 example is Draft"
        in logged_in.get(f"/datasets/{dataset.pk}/review/").content.decode()
    )
    html = logged_in.get(f"/datasets/{dataset.pk}/review/", {"drafts": "1"}).content.decode()
    assert f"Example {draft.pk}" in html
