"""The annotation pages: create from the list's filter, the blind queue, adjudication."""

import pytest

from annotation.models import Annotation, Assignment, AssignmentItem
from datasets_app.models import Example
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


def test_it_creates_an_assignment_from_the_lists_filter(
    client, owner, teammate, dora, dataset, examples
):
    Example.objects.filter(pk=examples[0].pk).update(status="needs_review")
    client.force_login(owner)
    shown = client.get(f"/datasets/{dataset.pk}/assignments/new/?status=needs_review")
    assert b"<strong>1</strong> example match" in shown.content
    response = client.post(
        f"/datasets/{dataset.pk}/assignments/new/",
        {
            "status": "needs_review",
            "annotators": [teammate.pk, dora.pk],
            "overlap": "2",
            "guidelines": "Be *kind*",
            "due_at": "2027-02-01",
        },
    )
    assignment = Assignment.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/assignments/{assignment.pk}/"
    assert set(AssignmentItem.objects.values_list("example_id", flat=True)) == {examples[0].pk}
    assert assignment.due_at.date().isoformat() == "2027-02-01"


def test_it_says_what_is_wrong_with_the_overlap_and_stores_nothing(
    client, owner, teammate, dataset, examples
):
    client.force_login(owner)
    response = client.post(
        f"/datasets/{dataset.pk}/assignments/new/", {"annotators": [teammate.pk], "overlap": "3"}
    )
    assert response.status_code == 400
    assert b"overlap: overlap 3 needs at least 3 annotators" in response.content
    assert not Assignment.objects.exists()


def test_it_keeps_the_queue_page_blind_until_submitted(
    client, api_for, owner, teammate, dora, dataset, examples
):
    api_for(owner).post(
        f"/api/v1/datasets/{dataset.pk}/assignments/",
        {"annotators": [teammate.pk, dora.pk], "overlap": 2, "ids": [examples[0].pk]},
        format="json",
    )
    client.force_login(teammate)
    page = client.get("/queue/")
    item = AssignmentItem.objects.get(annotator=teammate)
    assert f'data-item="{item.pk}"'.encode() in page.content
    client.post(
        f"/queue/{item.pk}/submit/",
        {"verdict": "approved", "rating": "4", "tags": "secret-bob-tag", "answer": "ok question 0"},
    )
    mine = Annotation.objects.get(annotator=teammate)
    assert (mine.verdict, mine.rating, mine.tags, mine.answer) == (
        "approved",
        4,
        ["secret-bob-tag"],
        "",
    )
    client.force_login(dora)
    theirs = AssignmentItem.objects.get(annotator=dora)
    for path in ("/queue/", f"/queue/{theirs.pk}/"):
        assert b"secret-bob-tag" not in client.get(path).content
    assert client.get(f"/queue/{item.pk}/").status_code == 404
    client.post(f"/queue/{theirs.pk}/submit/", {"verdict": "rejected"})
    assert b"secret-bob-tag" in client.get(f"/queue/{theirs.pk}/").content
    empty = client.get("/queue/").content
    assert b"Your queue is empty" in empty and f"/queue/{theirs.pk}/".encode() in empty


def test_it_shows_agreement_to_curators_only_and_adjudicates(
    client, api_for, owner, teammate, dora, dataset, examples
):
    assignment = (
        api_for(owner)
        .post(
            f"/api/v1/datasets/{dataset.pk}/assignments/",
            {"annotators": [teammate.pk, dora.pk], "overlap": 2, "ids": [examples[0].pk]},
            format="json",
        )
        .json()
    )
    for user, verdict in ((teammate, "approved"), (dora, "rejected")):
        item = AssignmentItem.objects.get(annotator=user)
        client.force_login(user)
        client.post(f"/queue/{item.pk}/submit/", {"verdict": verdict})
    client.force_login(teammate)
    page = client.get(f"/assignments/{assignment['id']}/").content
    assert b'id="agreement"' not in page and b"rejected" not in page
    client.force_login(owner)
    page = client.get(f"/assignments/{assignment['id']}/").content
    assert b'id="agreement"' in page and b"disagree on verdict" in page
    response = client.post(
        f"/assignments/{assignment['id']}/adjudicate/",
        {"example": examples[0].pk, "pick": dora.pk},
    )
    assert response.status_code == 302
    assert Example.objects.get(pk=examples[0].pk).status == "rejected"
    stats = client.get(f"/assignments/{assignment['id']}/statistics/?format=csv").content
    assert b"dora,all,1" in stats


def test_it_saves_new_guidelines_as_the_next_version(
    client, api_for, owner, teammate, dora, dataset, examples
):
    assignment = (
        api_for(owner)
        .post(
            f"/api/v1/datasets/{dataset.pk}/assignments/",
            {"annotators": [teammate.pk, dora.pk], "overlap": 2, "guidelines": "first"},
            format="json",
        )
        .json()
    )
    client.force_login(owner)
    client.post(
        f"/assignments/{assignment['id']}/edit/", {"guidelines": "second", "due_at": "2027-03-01"}
    )
    stored = Assignment.objects.get()
    assert (stored.guidelines, stored.guidelines_version) == ("second", 2)
    assert stored.due_at.date().isoformat() == "2027-03-01"
    page = client.get(f"/assignments/{assignment['id']}/").content
    assert b"Earlier versions" in page and b"first" in page
    client.force_login(teammate)
    assert (
        client.post(f"/assignments/{assignment['id']}/edit/", {"guidelines": "x"}).status_code
        == 403
    )
