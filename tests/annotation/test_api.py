"""The annotation API: assignments, the blind queue, agreement, adjudication, statistics."""

import csv
import io
import json

import krippendorff
import numpy as np
import pytest

from annotation.models import Annotation, AssignmentItem
from datasets_app.models import Example
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db


def chat(text):
    return [{"role": "user", "content": text}, {"role": "assistant", "content": "ok " + text}]


@pytest.fixture
def examples(dataset, owner, make_example):
    return [make_example(dataset, owner, messages=chat(f"question {i}")) for i in range(6)]


@pytest.fixture
def dora(make_user, team):
    user = make_user("dora")
    MembershipFactory(team=team, user=user, role="annotator")
    return user


def create(api, dataset, annotators, **body):
    return api.post(
        f"/api/v1/datasets/{dataset.pk}/assignments/",
        {"annotators": [a.pk for a in annotators], "overlap": 2, **body},
        format="json",
    )


def work_queue(api, labels):
    """Submit every item of the caller's queue; ``labels(example_id)`` gives the body."""
    done = []
    while True:
        item = api.get("/api/v1/me/queue/").json()["item"]
        if item is None:
            return done
        body = labels(item["example"]["id"])
        response = api.post(f"/api/v1/me/queue/{item['id']}/submit/", body, format="json")
        assert response.status_code == 201, response.json()
        done.append(item["example"]["id"])


def test_it_creates_an_assignment_from_the_example_lists_filter(
    api_for, owner, teammate, dora, dataset, examples
):
    Example.objects.filter(pk__in=[e.pk for e in examples[:4]]).update(status="needs_review")
    response = create(
        api_for(owner),
        dataset,
        [teammate, dora],
        filter={"status": "needs_review"},
        guidelines="# Rules\nBe strict.",
        due_at="2027-01-01T00:00:00Z",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["progress"]["examples"] == 4 and body["progress"]["total"] == 8
    assert body["guidelines_version"] == 1 and body["due_at"].startswith("2027-01-01")
    listed = api_for(teammate).get(f"/api/v1/datasets/{dataset.pk}/assignments/").json()
    assert [a["id"] for a in listed] == [body["id"]]
    assert listed[0]["progress"] == {"total": 8, "submitted": 0}


def test_it_refuses_an_overlap_above_the_annotators_naming_overlap(
    api_for, owner, teammate, dataset, examples
):
    response = create(api_for(owner), dataset, [teammate], overlap=2)
    assert response.status_code == 400
    assert response.json()["code"] == "overlap"
    assert response.json()["errors"][0]["path"] == "overlap"
    assert AssignmentItem.objects.count() == 0


def test_it_versions_the_guidelines(api_for, owner, teammate, dora, dataset, examples):
    assignment = create(api_for(owner), dataset, [teammate, dora], guidelines="v1").json()
    path = f"/api/v1/assignments/{assignment['id']}/"
    body = api_for(owner).patch(path, {"guidelines": "v2 text"}, format="json").json()
    assert body["guidelines_version"] == 2
    assert [(g["version"], g["text"]) for g in body["guidelines_history"]] == [
        (2, "v2 text"),
        (1, "v1"),
    ]
    assert api_for(teammate).patch(path, {"guidelines": "x"}, format="json").status_code == 403


def test_it_keeps_annotation_blind_until_the_annotator_submits(
    api_for, owner, teammate, dora, dataset, examples
):
    create(api_for(owner), dataset, [teammate, dora], ids=[examples[0].pk])
    bob, dee = api_for(teammate), api_for(dora)
    bob_item = bob.get("/api/v1/me/queue/").json()["item"]
    dee_item = dee.get("/api/v1/me/queue/").json()["item"]
    body = {"verdict": "approved", "rating": 4, "tags": ["polite"], "note": "fine"}
    assert (
        bob.post(f"/api/v1/me/queue/{bob_item['id']}/submit/", body, format="json").status_code
        == 201
    )
    # dora has not submitted: bob's label is nowhere in what she sees
    seen = dee.get(f"/api/v1/me/queue/{dee_item['id']}/").json()
    assert seen["others"] == [] and "polite" not in json.dumps(seen)
    # and she cannot open bob's item
    assert dee.get(f"/api/v1/me/queue/{bob_item['id']}/").status_code == 404
    dee.post(f"/api/v1/me/queue/{dee_item['id']}/submit/", {"verdict": "rejected"}, format="json")
    seen = dee.get(f"/api/v1/me/queue/{dee_item['id']}/").json()
    assert [(o["username"], o["verdict"]) for o in seen["others"]] == [("bob", "approved")]


def test_it_stores_each_annotators_own_label_and_leaves_the_consensus_alone(
    api_for, owner, teammate, dora, dataset, examples
):
    create(api_for(owner), dataset, [teammate, dora], ids=[examples[0].pk])
    work_queue(
        api_for(teammate), lambda e: {"verdict": "approved", "rating": 5, "answer": "Better."}
    )
    work_queue(api_for(dora), lambda e: {"verdict": "rejected", "rating": 1, "tags": ["rude"]})
    rows = dict(Annotation.objects.values_list("annotator__username", "verdict"))
    assert rows == {"bob": "approved", "dora": "rejected"}
    example = Example.objects.get(pk=examples[0].pk)
    assert (example.status, example.rating, list(example.tags.all())) == ("draft", None, [])
    assert example.current_revision.messages == chat("question 0")


def test_it_refuses_a_bad_label_naming_the_field_and_stores_nothing(
    api_for, owner, teammate, dora, dataset, examples
):
    create(api_for(owner), dataset, [teammate, dora], ids=[examples[0].pk])
    api = api_for(teammate)
    item = api.get("/api/v1/me/queue/").json()["item"]
    response = api.post(
        f"/api/v1/me/queue/{item['id']}/submit/", {"verdict": "maybe", "rating": 9}, format="json"
    )
    assert response.status_code == 400
    assert {e["path"] for e in response.json()["errors"]} == {"verdict", "rating"}
    assert Annotation.objects.count() == 0
    again = api.post(
        f"/api/v1/me/queue/{item['id']}/submit/", {"verdict": "approved"}, format="json"
    )
    assert again.status_code == 201
    twice = api.post(
        f"/api/v1/me/queue/{item['id']}/submit/", {"verdict": "approved"}, format="json"
    )
    assert twice.status_code == 409


def test_it_gives_the_same_item_back_while_the_lease_holds(
    api_for, owner, teammate, dora, dataset, examples
):
    create(api_for(owner), dataset, [teammate, dora])
    api = api_for(teammate)
    first = api.get("/api/v1/me/queue/").json()["item"]
    again = api.get("/api/v1/me/queue/").json()["item"]
    assert again["id"] == first["id"] and again["lease_expires_at"] >= first["lease_expires_at"]
    assert first["progress"] == {"total": 6, "submitted": 0, "skipped": 0}


def test_it_refuses_a_submit_once_the_slot_moved_to_someone_else(
    api_for, owner, teammate, dora, dataset, examples
):
    assignment = create(api_for(owner), dataset, [owner, teammate, dora]).json()
    bob = api_for(teammate)
    item = bob.get("/api/v1/me/queue/").json()["item"]
    api_for(owner).delete(f"/api/v1/assignments/{assignment['id']}/annotators/{teammate.pk}/")
    response = bob.post(
        f"/api/v1/me/queue/{item['id']}/submit/", {"verdict": "approved"}, format="json"
    )
    assert response.status_code == 404
    assert Annotation.objects.count() == 0


def test_it_reports_alpha_and_kappa_equal_to_the_krippendorff_package(
    api_for, owner, teammate, dora, dataset, examples
):
    assignment = create(api_for(owner), dataset, [teammate, dora], seed="s").json()
    bob_says = {
        e.pk: ("approved" if i % 2 else "rejected", 1 + i % 5) for i, e in enumerate(examples)
    }
    dee_says = {
        e.pk: ("approved" if i % 3 else "rejected", 1 + (i * 2) % 5) for i, e in enumerate(examples)
    }
    work_queue(
        api_for(teammate), lambda e: dict(zip(("verdict", "rating"), bob_says[e], strict=True))
    )
    work_queue(api_for(dora), lambda e: dict(zip(("verdict", "rating"), dee_says[e], strict=True)))
    report = api_for(owner).get(f"/api/v1/assignments/{assignment['id']}/agreement/").json()
    ids = [e.pk for e in examples]
    code = {"approved": 1, "rejected": 0}
    verdicts = np.array(
        [[code[bob_says[i][0]] for i in ids], [code[dee_says[i][0]] for i in ids]], dtype=float
    )
    ratings = np.array([[bob_says[i][1] for i in ids], [dee_says[i][1] for i in ids]], dtype=float)
    fields = report["fields"]
    assert fields["verdict"]["alpha"]["nominal"]["value"] == pytest.approx(
        krippendorff.alpha(reliability_data=verdicts, level_of_measurement="nominal")
    )
    for level in ("ordinal", "interval"):
        assert fields["rating"]["alpha"][level]["value"] == pytest.approx(
            krippendorff.alpha(reliability_data=ratings, level_of_measurement=level)
        )
    # kappa by hand: p_o from the matches, p_e from each annotator's marginals
    a, b = verdicts
    p_o = float(np.mean(a == b))
    p_e = float(np.mean(a) * np.mean(b) + (1 - np.mean(a)) * (1 - np.mean(b)))
    (pair,) = fields["verdict"]["kappa"]
    assert pair["annotators"] == ["bob", "dora"] and pair["n"] == 6
    assert pair["value"] == pytest.approx((p_o - p_e) / (1 - p_e))
    flags = [bool(item["disagree"]) for item in report["items"]]
    assert flags == sorted(flags, reverse=True) and any(flags)
    assert (
        api_for(teammate).get(f"/api/v1/assignments/{assignment['id']}/agreement/").status_code
        == 403
    )


def test_it_adjudicates_into_the_consensus_with_a_credited_revision(
    api_for, owner, teammate, dora, dataset, examples
):
    assignment = create(api_for(owner), dataset, [teammate, dora], ids=[examples[0].pk]).json()
    work_queue(
        api_for(teammate),
        lambda e: {"verdict": "approved", "rating": 4, "tags": ["a"], "answer": "Edited by bob."},
    )
    work_queue(api_for(dora), lambda e: {"verdict": "rejected", "rating": 2, "tags": ["b"]})
    path = f"/api/v1/assignments/{assignment['id']}/adjudicate/"
    response = api_for(owner).post(
        path, {"example": examples[0].pk, "pick": teammate.pk, "tags": ["a", "b"]}, format="json"
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["annotators"] == sorted([teammate.pk, dora.pk]) and body["revision"]
    example = Example.objects.get(pk=examples[0].pk)
    assert example.status == "approved" and example.rating == 4
    assert sorted(t.name for t in example.tags.all()) == ["a", "b"]
    assert example.current_revision.messages[-1]["content"] == "Edited by bob."
    assert example.current_revision.number == 2
    denied = api_for(teammate).post(
        path, {"example": examples[0].pk, "pick": dora.pk}, format="json"
    )
    assert denied.status_code == 403


def test_it_exports_annotator_statistics_and_annotations(
    api_for, owner, teammate, dora, dataset, examples
):
    assignment = create(api_for(owner), dataset, [teammate, dora], ids=[examples[0].pk]).json()
    work_queue(api_for(teammate), lambda e: {"verdict": "approved", "seconds": 12})
    work_queue(api_for(dora), lambda e: {"verdict": "rejected", "seconds": 30})
    api_for(owner).post(
        f"/api/v1/assignments/{assignment['id']}/adjudicate/",
        {"example": examples[0].pk, "pick": dora.pk},
        format="json",
    )
    stats = api_for(owner).get(f"/api/v1/assignments/{assignment['id']}/statistics/").json()
    by_name = {s["username"]: s for s in stats["annotators"]}
    assert by_name["bob"]["median_seconds"] == 12 and by_name["bob"]["consensus_agreement"] == 0
    assert by_name["dora"]["consensus_agreement"] == 1 and by_name["dora"]["items"] == 1
    text = (
        api_for(owner)
        .get(f"/api/v1/assignments/{assignment['id']}/statistics/?format=csv")
        .content.decode()
    )
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][0] == "username" and ["dora", "all", "1", "30.0", "1.0000", "1"] in rows
    lines = (
        b"".join(
            api_for(owner)
            .get(f"/api/v1/datasets/{dataset.pk}/annotations/export/")
            .streaming_content
        )
        .decode()
        .splitlines()
    )
    (line,) = lines
    exported = json.loads(line)
    assert exported["example"] == examples[0].pk and exported["status"] == "rejected"
    assert exported["messages"] == chat("question 0")
    assert [(a["username"], a["verdict"]) for a in exported["annotations"]] == [
        ("bob", "approved"),
        ("dora", "rejected"),
    ]


def test_it_removes_an_annotator_and_moves_their_open_items(
    api_for, owner, teammate, dora, dataset, examples
):
    assignment = create(api_for(owner), dataset, [owner, teammate, dora], seed="r").json()
    response = api_for(owner).delete(
        f"/api/v1/assignments/{assignment['id']}/annotators/{dora.pk}/"
    )
    assert response.status_code == 200 and response.json()["moved"] == 4
    assert not AssignmentItem.objects.filter(annotator=dora).exists()
    assert api_for(dora).get("/api/v1/me/queue/").json()["item"] is None


def test_it_hides_another_teams_assignments(
    api_for, owner, outsider, teammate, dora, dataset, examples
):
    assignment = create(api_for(owner), dataset, [teammate, dora]).json()
    item = api_for(teammate).get("/api/v1/me/queue/").json()["item"]
    them = api_for(outsider)
    assert them.get(f"/api/v1/assignments/{assignment['id']}/").status_code == 404
    assert them.get(f"/api/v1/me/queue/{item['id']}/").status_code == 404
    assert them.get(f"/api/v1/me/queue/?assignment={assignment['id']}").status_code == 404
    assert them.get("/api/v1/me/queue/").json()["item"] is None


def test_it_keeps_a_curator_who_annotates_blind_on_the_agreement_and_export(
    api_for, owner, teammate, dora, dataset, examples
):
    assignment = create(
        api_for(owner), dataset, [owner, teammate, dora], overlap=3, ids=[examples[0].pk]
    ).json()
    work_queue(api_for(teammate), lambda e: {"verdict": "approved", "note": "bob-was-here"})
    path = f"/api/v1/assignments/{assignment['id']}/agreement/"
    report = api_for(owner).get(path).json()
    assert report["items"] == [] and report["hidden_items"] == 1
    assert "bob-was-here" not in json.dumps(report)
    export = f"/api/v1/datasets/{dataset.pk}/annotations/export/"
    assert b"bob-was-here" not in b"".join(api_for(owner).get(export).streaming_content)
    work_queue(api_for(owner), lambda e: {"verdict": "rejected"})
    report = api_for(owner).get(path).json()
    assert [i["example"] for i in report["items"]] == [examples[0].pk]
    assert b"bob-was-here" in b"".join(api_for(owner).get(export).streaming_content)


def test_it_refuses_to_let_a_curator_adjudicate_an_example_still_open_in_their_queue(
    api_for, owner, teammate, dora, dataset, examples
):
    assignment = create(
        api_for(owner), dataset, [owner, teammate, dora], overlap=3, ids=[examples[0].pk]
    ).json()
    work_queue(api_for(teammate), lambda e: {"verdict": "approved"})
    response = api_for(owner).post(
        f"/api/v1/assignments/{assignment['id']}/adjudicate/",
        {"example": examples[0].pk, "pick": teammate.pk},
        format="json",
    )
    assert response.status_code == 400 and "still have example" in response.json()["detail"]
    assert Example.objects.get(pk=examples[0].pk).status == "draft"
