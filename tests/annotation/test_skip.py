"""Skipping a queue item (issue 21): it goes to the assignment's pool for the other annotators
and comes back to the skipper only after the rest of their queue."""

import pytest

from annotation.models import Annotation, AssignmentItem, ItemStatus
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db


def chat(text):
    return [{"role": "user", "content": text}, {"role": "assistant", "content": "ok " + text}]


@pytest.fixture
def examples(dataset, owner, make_example):
    return [make_example(dataset, owner, messages=chat(f"question {i}")) for i in range(4)]


@pytest.fixture
def dora(make_user, team):
    user = make_user("dora")
    MembershipFactory(team=team, user=user, role="annotator")
    return user


def assign(api, dataset, annotators, overlap):
    response = api.post(
        f"/api/v1/datasets/{dataset.pk}/assignments/",
        {"annotators": [a.pk for a in annotators], "overlap": overlap},
        format="json",
    )
    assert response.status_code == 201, response.json()
    return response.json()


def skip(api, item_id):
    return api.post(f"/api/v1/me/queue/{item_id}/submit/", {"skip": True}, format="json")


def work(api, *, skip_example=None):
    """Submit every item of the caller's queue (skipping ``skip_example`` the first time it is
    shown); returns the example ids in the order they were shown."""
    shown = []
    while True:
        item = api.get("/api/v1/me/queue/").json()["item"]
        if item is None:
            return shown
        example = item["example"]["id"]
        shown.append(example)
        if example == skip_example and shown.count(example) == 1:
            assert skip(api, item["id"]).status_code == 200
            continue
        body = {"verdict": "approved", "tags": ["seen"]}
        response = api.post(f"/api/v1/me/queue/{item['id']}/submit/", body, format="json")
        assert response.status_code == 201, response.json()


def test_it_shows_a_skipped_item_again_only_after_the_rest(
    api_for, owner, teammate, dora, dataset, examples
):
    assign(api_for(owner), dataset, [teammate, dora], overlap=2)
    bob = api_for(teammate)
    first = bob.get("/api/v1/me/queue/").json()["item"]
    response = skip(bob, first["id"])
    assert response.status_code == 200
    assert response.json()["status"] == "skipped"
    assert response.json()["progress"] == {"total": 4, "submitted": 0, "skipped": 1}
    shown = work(bob)
    assert len(shown) == 4 and shown[-1] == first["example"]["id"]
    assert first["example"]["id"] not in shown[:-1]
    assert AssignmentItem.objects.get(pk=first["id"]).status == ItemStatus.SUBMITTED


def test_it_hands_a_skipped_item_to_another_annotator_once_their_queue_is_done(
    api_for, owner, teammate, dora, dataset, examples
):
    assign(api_for(owner), dataset, [teammate, dora], overlap=1)
    bob, dee = api_for(teammate), api_for(dora)
    item = bob.get("/api/v1/me/queue/").json()["item"]
    skipped = item["example"]["id"]
    assert skip(bob, item["id"]).status_code == 200
    own = set(AssignmentItem.objects.filter(annotator=dora).values_list("example_id", flat=True))
    shown = work(dee)
    assert set(shown[:-1]) == own and shown[-1] == skipped
    assert bob.get(f"/api/v1/me/queue/{item['id']}/").status_code == 404
    assert skipped not in work(bob)
    assert Annotation.objects.get(example_id=skipped).annotator == dora
    assert AssignmentItem.objects.filter(status=ItemStatus.SUBMITTED).count() == 4


def test_it_keeps_the_skipper_blind(api_for, owner, teammate, dora, dataset, examples):
    assign(api_for(owner), dataset, [teammate, dora], overlap=2)
    bob = api_for(teammate)
    item = bob.get("/api/v1/me/queue/").json()["item"]
    skip(bob, item["id"])
    theirs = AssignmentItem.objects.get(annotator=dora, example_id=item["example"]["id"])
    api_for(dora).post(
        f"/api/v1/me/queue/{theirs.pk}/submit/",
        {"verdict": "rejected", "tags": ["secret-dora-tag"]},
        format="json",
    )
    page = bob.get(f"/api/v1/me/queue/{item['id']}/")
    assert page.status_code == 200 and page.json()["others"] == []
    assert b"secret-dora-tag" not in page.content


def test_it_refuses_a_skip_with_a_label_and_a_skip_of_a_submitted_item(
    api_for, owner, teammate, dora, dataset, examples
):
    assign(api_for(owner), dataset, [teammate, dora], overlap=2)
    bob = api_for(teammate)
    item = bob.get("/api/v1/me/queue/").json()["item"]
    both = bob.post(
        f"/api/v1/me/queue/{item['id']}/submit/",
        {"skip": True, "verdict": "approved"},
        format="json",
    )
    assert both.status_code == 400 and "skip" in both.json()["errors"][0]["path"]
    assert AssignmentItem.objects.get(pk=item["id"]).status == ItemStatus.OPEN
    assert not Annotation.objects.exists()
    bob.post(f"/api/v1/me/queue/{item['id']}/submit/", {"verdict": "approved"}, format="json")
    again = skip(bob, item["id"])
    assert again.status_code == 409
    assert AssignmentItem.objects.get(pk=item["id"]).status == ItemStatus.SUBMITTED


def test_it_skips_from_the_queue_page_with_its_key(
    client, api_for, owner, teammate, dora, dataset, examples
):
    assign(api_for(owner), dataset, [teammate, dora], overlap=2)
    client.force_login(teammate)
    page = client.get("/queue/").content.decode()
    first = AssignmentItem.objects.get(annotator=teammate, leased_until__isnull=False)
    assert 'name="skip"' in page and 'data-shortcut="j"' in page
    response = client.post(f"/queue/{first.pk}/submit/", {"skip": "1"}, follow=True)
    body = response.content.decode()
    assert f"Example {first.example_id}: skipped" in body and "1 skipped" in body
    assert f'data-item="{first.pk}"' not in body and "data-item=" in body
    assert AssignmentItem.objects.get(pk=first.pk).status == ItemStatus.SKIPPED
    assert not Annotation.objects.exists()


def test_it_moves_a_removed_annotators_skipped_items_to_the_others(
    api_for, owner, teammate, dora, dataset, examples
):
    assignment = assign(api_for(owner), dataset, [owner, teammate, dora], overlap=1)
    bob = api_for(teammate)
    item = bob.get("/api/v1/me/queue/").json()["item"]
    skip(bob, item["id"])
    api_for(owner).delete(f"/api/v1/assignments/{assignment['id']}/annotators/{teammate.pk}/")
    moved = AssignmentItem.objects.get(pk=item["id"])
    assert moved.annotator_id != teammate.pk and moved.status == ItemStatus.OPEN
    assert bob.get("/api/v1/me/queue/").json()["item"] is None
