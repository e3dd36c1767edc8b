import pytest

from datasets_app.models import CheckResult, DatasetVersion

from .conftest import chat

pytestmark = pytest.mark.postgres


def url(dataset):
    return f"/api/v1/datasets/{dataset.pk}/versions/"


def test_it_freezes_a_version_and_lists_it(dataset, example, owner, api_for):
    api = api_for(owner)
    response = api.post(url(dataset), {"name": "first", "notes": "hi"}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["number"], body["name"], body["notes"], body["total"]) == (1, "first", "hi", 1)
    assert body["counts"] == {"unassigned": 1}
    assert len(body["content_hash"]) == 64
    listed = api.get(url(dataset)).json()
    assert [v["id"] for v in listed["results"]] == [body["id"]]
    detail = api.get(f"/api/v1/versions/{body['id']}/").json()
    assert detail["content_hash"] == body["content_hash"]
    assert set(detail["check_report"]) == {"by_rule", "by_severity"}
    assert detail["stats"]["by_split"] == {"unassigned": 1}
    assert "token_stats" in detail["stats"]["report"]


def test_it_answers_409_with_the_blockers_and_201_when_forced(dataset, example, owner, api_for):
    CheckResult.objects.create(
        dataset=dataset, example=example, rule_id="empty_assistant", severity="error", message="m"
    )
    api = api_for(owner)
    response = api.post(url(dataset), {"name": "x"}, format="json")
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "gate"
    assert body["blockers"] == [
        {"rule_id": "empty_assistant", "count": 1, "message": "m", "example_ids": [example.pk]}
    ]
    assert api.post(url(dataset), {"force": True}, format="json").status_code == 400
    response = api.post(url(dataset), {"force": True, "reason": "ship it"}, format="json")
    assert response.status_code == 201
    assert response.json()["forced"] is True
    assert response.json()["force_reason"] == "ship it"


def test_it_answers_400_for_an_empty_dataset(dataset, owner, api_for):
    response = api_for(owner).post(url(dataset), {}, format="json")
    assert response.status_code == 400
    assert "nothing to freeze" in response.json()["detail"]


def test_it_lets_patch_change_only_name_and_notes(dataset, example, owner, api_for, freeze):
    version = freeze(dataset)
    api = api_for(owner)
    path = f"/api/v1/versions/{version.pk}/"
    response = api.patch(path, {"name": "renamed", "notes": "why"}, format="json")
    assert response.status_code == 200
    assert (response.json()["name"], response.json()["notes"]) == ("renamed", "why")
    response = api.patch(path, {"content_hash": "0" * 64, "counts": {}}, format="json")
    assert response.status_code == 400
    assert sorted(e["path"] for e in response.json()["errors"]) == ["content_hash", "counts"]
    version.refresh_from_db()
    assert version.content_hash != "0" * 64


@pytest.mark.parametrize("method", ["put", "delete"])
def test_it_has_no_route_that_replaces_or_deletes_a_version(
    dataset, example, owner, api_for, freeze, method
):
    version = freeze(dataset)
    response = getattr(api_for(owner), method)(f"/api/v1/versions/{version.pk}/", {}, format="json")
    assert response.status_code == 405
    assert DatasetVersion.objects.filter(pk=version.pk, content_hash=version.content_hash).exists()


def test_it_forbids_an_annotator_to_freeze_export_restore_or_undo(
    dataset, example, owner, teammate, api_for, freeze
):
    from datasets_app.services.versions import dataset_version_restore

    version = freeze(dataset)
    restore = dataset_version_restore(user=owner, version=version)
    api = api_for(teammate)
    assert api.post(url(dataset), {}, format="json").status_code == 403
    assert api.get(f"/api/v1/versions/{version.pk}/export/?format=openai").status_code == 403
    assert api.post(f"/api/v1/versions/{version.pk}/restore/").status_code == 403
    assert api.post(f"/api/v1/restores/{restore.pk}/undo/").status_code == 403
    assert (
        api.patch(f"/api/v1/versions/{version.pk}/", {"name": "n"}, format="json").status_code
        == 403
    )
    # Reading is allowed.
    assert api.get(f"/api/v1/versions/{version.pk}/").status_code == 200


def test_it_hides_another_teams_version_from_a_diff(
    dataset, example, other_dataset, outsider, owner, api_for, freeze, make_example
):
    mine = freeze(dataset)
    make_example(other_dataset, outsider, chat("theirs"))
    theirs = freeze(other_dataset, user=outsider)
    response = api_for(owner).get(f"/api/v1/versions/{mine.pk}/diff/?against={theirs.pk}")
    assert response.status_code == 404


def test_it_diffs_two_versions_over_the_api(dataset, example, owner, api_for, freeze, edit):
    v1 = freeze(dataset)
    edit(example, messages=chat("What is 2+2?", "four"))
    v2 = freeze(dataset)
    api = api_for(owner)
    body = api.get(f"/api/v1/versions/{v2.pk}/diff/?against={v1.pk}").json()
    assert body["summary"]["changed"] == 1
    [item] = body["results"]
    assert item["messages"]["changed"][0]["new"]["content"] == "four"
    assert api.get(f"/api/v1/versions/{v2.pk}/diff/").status_code == 400
    assert api.get(f"/api/v1/versions/{v2.pk}/diff/?against={v1.pk}&page=0").status_code == 400


def test_it_restores_and_undoes_over_the_api(dataset, example, owner, api_for, freeze, edit):
    v1 = freeze(dataset)
    edit(example, messages=chat("changed"))
    api = api_for(owner)
    response = api.post(f"/api/v1/versions/{v1.pk}/restore/")
    assert response.status_code == 201
    restore = response.json()
    assert restore["counts"]["content"] == 1
    example.refresh_from_db()
    assert example.current_revision.messages == v1.entries.get().revision.messages
    assert api.get(f"/api/v1/restores/{restore['id']}/").json()["undone_at"] is None
    assert api.post(f"/api/v1/restores/{restore['id']}/undo/").status_code == 200
    example.refresh_from_db()
    assert example.current_revision.messages == chat("changed")
    assert api.post(f"/api/v1/restores/{restore['id']}/undo/").status_code == 409
