"""POST /api/v1/datasets/{id}/examples/bulk/ with ``expected_count``: the number the caller
saw (the list's ``count``) or a 409 that changes nothing (issue 16.2)."""

from datasets_app.models import Example


def test_it_applies_a_filter_action_when_the_count_is_the_one_expected(
    api_for, owner, dataset, make_example
):
    for i in range(3):
        make_example(dataset, owner, status="needs_review")
    make_example(dataset, owner)
    api = api_for(owner)
    listed = api.get(f"/api/v1/datasets/{dataset.pk}/examples/?status=needs_review").json()
    response = api.post(
        f"/api/v1/datasets/{dataset.pk}/examples/bulk/",
        {
            "action": "set_status",
            "value": "approved",
            "filter": {"status": "needs_review"},
            "expected_count": listed["count"],
        },
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json() == {"changed": 3}
    assert Example.objects.filter(status="approved").count() == 3


def test_it_refuses_a_filter_action_when_the_count_moved(api_for, owner, dataset, make_example):
    for i in range(3):
        make_example(dataset, owner, status="needs_review")
    response = api_for(owner).post(
        f"/api/v1/datasets/{dataset.pk}/examples/bulk/",
        {
            "action": "archive",
            "filter": {"status": "needs_review"},
            "expected_count": 2,
        },
        format="json",
    )
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "selection_changed"
    assert "2 examples then, 3 now" in body["detail"]
    assert not Example.objects.filter(status="archived").exists()


def test_it_refuses_ids_when_the_count_given_is_not_theirs(api_for, owner, dataset, make_example):
    a = make_example(dataset, owner)
    response = api_for(owner).post(
        f"/api/v1/datasets/{dataset.pk}/examples/bulk/",
        {"action": "archive", "ids": [a.pk], "expected_count": 5},
        format="json",
    )
    assert response.status_code == 409
    assert Example.objects.get(pk=a.pk).status == "draft"


def test_it_rejects_a_negative_expected_count(api_for, owner, dataset, example):
    response = api_for(owner).post(
        f"/api/v1/datasets/{dataset.pk}/examples/bulk/",
        {"action": "archive", "filter": {}, "expected_count": -1},
        format="json",
    )
    assert response.status_code == 400
    assert "expected_count" in str(response.json())
