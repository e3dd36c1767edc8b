from datasets_app.models import Example, ExampleRevision
from tests.conftest import CHAT


def url(example):
    return f"/api/v1/examples/{example.pk}/"


def test_it_creates_an_example_with_revision_one(api_for, owner, dataset):
    response = api_for(owner).post(
        f"/api/v1/datasets/{dataset.pk}/examples/",
        {"messages": CHAT, "tags": ["math", "math", " easy "], "metadata": {"source": "faq"}},
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["revision"] == 1 and body["content_revision"] == 1
    assert body["tags"] == ["easy", "math"]
    assert response["ETag"] == '"1"'
    assert len(body["content_hash"]) == 64


def test_it_answers_400_naming_each_bad_path(api_for, owner, dataset):
    response = api_for(owner).post(
        f"/api/v1/datasets/{dataset.pk}/examples/",
        {
            "messages": [{"role": "user", "content": "x"}, {"role": "bot", "content": 3}],
            "metadata": {"bad key": 1},
        },
        format="json",
    )
    assert response.status_code == 400
    paths = [e["path"] for e in response.json()["errors"]]
    assert paths == ["messages[1].content", "messages[1].role", "metadata"]
    assert not Example.objects.exists()


def test_it_serves_the_etag_and_needs_if_match_to_patch(api_for, owner, example):
    client = api_for(owner)
    response = client.get(url(example))
    assert response["ETag"] == '"1"'
    response = client.patch(url(example), {"status": "approved"}, format="json")
    assert response.status_code == 428
    example.refresh_from_db()
    assert example.status == "draft"


def test_it_edits_with_a_fresh_etag_and_keeps_the_old_revision(api_for, owner, example):
    client = api_for(owner)
    new = CHAT[:-1] + [{"role": "assistant", "content": "Four."}]
    response = client.patch(
        url(example), {"messages": new, "status": "approved"}, format="json", HTTP_IF_MATCH='"1"'
    )
    assert response.status_code == 200, response.json()
    assert response["ETag"] == '"2"'
    assert response.json()["content_revision"] == 2
    revisions = list(
        ExampleRevision.objects.filter(example=example).values_list("messages", flat=True)
    )
    assert revisions == [CHAT, new]


def test_it_answers_412_for_a_stale_etag_and_changes_nothing(api_for, owner, teammate, example):
    api_for(teammate).patch(url(example), {"notes": "first"}, format="json", HTTP_IF_MATCH='"1"')
    response = api_for(owner).patch(
        url(example), {"notes": "second"}, format="json", HTTP_IF_MATCH='"1"'
    )
    assert response.status_code == 412
    assert response.json()["current_revision"] == 2
    example.refresh_from_db()
    assert example.notes == "first"


def test_it_bumps_the_etag_for_annotation_only_changes(api_for, owner, example):
    response = api_for(owner).patch(
        url(example), {"tags": ["a"], "rating": 5}, format="json", HTTP_IF_MATCH='"1"'
    )
    assert response.status_code == 200
    assert response["ETag"] == '"2"'
    assert ExampleRevision.objects.filter(example=example).count() == 1


def test_it_refuses_read_only_fields(api_for, owner, example):
    response = api_for(owner).patch(
        url(example),
        {"content_hash": "0" * 64, "revision": 99, "dataset": 5},
        format="json",
        HTTP_IF_MATCH='"1"',
    )
    # Unknown keys are dropped by the serializer: nothing to change is still a valid edit.
    example.refresh_from_db()
    assert example.dataset_id != 5 and example.content_hash != "0" * 64
    assert response.status_code == 200


def test_it_forbids_a_viewer_to_edit(api_for, teammate, example):
    from finetunedb.teams.models import Membership

    Membership.objects.filter(user=teammate).update(role="viewer")
    response = api_for(teammate).patch(
        url(example), {"notes": "x"}, format="json", HTTP_IF_MATCH='"1"'
    )
    assert response.status_code == 403


def test_it_filters_and_caps_page_size(api_for, owner, dataset, make_example):
    for i in range(3):
        make_example(
            dataset,
            owner,
            messages=[{"role": "user", "content": f"q{i}"}, {"role": "assistant", "content": "a"}],
            status="approved" if i else "draft",
        )
    client = api_for(owner)
    body = client.get(
        f"/api/v1/datasets/{dataset.pk}/examples/?status=approved&page_size=100000"
    ).json()
    assert body["count"] == 2
    body = client.get(f"/api/v1/datasets/{dataset.pk}/examples/?search=Q1").json()
    assert body["count"] == 1
    body = client.get(
        f"/api/v1/datasets/{dataset.pk}/examples/?ordering=created_by__password"
    ).json()
    assert body["count"] == 3


def test_it_deletes_for_curators_only(api_for, owner, teammate, example):
    assert api_for(teammate).delete(url(example)).status_code == 403
    assert api_for(owner).delete(url(example)).status_code == 204
    assert not Example.objects.filter(pk=example.pk).exists()


def test_it_applies_bulk_actions_all_or_nothing(
    api_for, owner, dataset, other_dataset, outsider, make_example
):
    mine = [make_example(dataset, owner) for _ in range(2)]
    theirs = make_example(other_dataset, outsider)
    client = api_for(owner)
    bulk = f"/api/v1/datasets/{dataset.pk}/examples/bulk/"
    response = client.post(
        bulk,
        {"action": "set_status", "value": "approved", "ids": [mine[0].pk, theirs.pk]},
        format="json",
    )
    assert response.status_code == 400
    assert set(Example.objects.values_list("status", flat=True)) == {"draft"}
    response = client.post(
        bulk,
        {"action": "add_tags", "value": ["gold"], "filter": {"status": "draft"}},
        format="json",
    )
    assert response.json() == {"changed": 2}
    theirs.refresh_from_db()
    assert list(theirs.tags.all()) == []
    response = client.post(bulk, {"action": "archive", "ids": [mine[0].pk]}, format="json")
    assert response.json() == {"changed": 1}
    assert client.get(f"/api/v1/datasets/{dataset.pk}/examples/").json()["count"] == 1
