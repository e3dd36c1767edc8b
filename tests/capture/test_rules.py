"""Capture rules route new matching logs into a dataset's review queue after the batch commits."""

import pytest
from rest_framework.test import APIClient

from datasets_app.models import Example

pytestmark = pytest.mark.django_db

ANSWER = {"role": "assistant", "content": "ok"}


def entries(n, **extra):
    return [
        {
            "messages": [{"role": "user", "content": f"ask {i}"}],
            "response": ANSWER,
            "model": "m",
            **extra,
        }
        for i in range(n)
    ]


@pytest.fixture
def key(api_for, owner, team):
    raw = api_for(owner).post(f"/api/v1/teams/{team.pk}/ingest-keys/", {"name": "s"}, format="json")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {raw.json()['key']}")
    return client


def test_it_routes_new_matching_logs_into_the_review_queue(
    api_for, owner, team, dataset, key, django_capture_on_commit_callbacks
):
    rules = f"/api/v1/teams/{team.pk}/capture-rules/"
    made = api_for(owner).post(
        rules,
        {"dataset": dataset.pk, "filter": {"tag": "support"}, "sample_rate": 1},
        format="json",
    )
    assert made.status_code == 201, made.content
    with django_capture_on_commit_callbacks(execute=True):
        ids = key.post(
            "/api/v1/logs/", {"logs": entries(3, tags=["support"]) + entries(2)}, format="json"
        ).json()["ids"]
    routed = Example.objects.filter(dataset=dataset)
    assert sorted(routed.values_list("source_log", flat=True)) == ids[:3]
    assert set(routed.values_list("status", flat=True)) == {"needs_review"}
    assert api_for(owner).get(rules).json()[0]["applied_count"] == 3


def test_it_samples_by_log_id_at_the_rule_rate(
    api_for, owner, team, dataset, key, django_capture_on_commit_callbacks
):
    from capture.sampling import sampled

    rule = (
        api_for(owner)
        .post(
            f"/api/v1/teams/{team.pk}/capture-rules/",
            {"dataset": dataset.pk, "sample_rate": 0.25},
            format="json",
        )
        .json()
    )
    with django_capture_on_commit_callbacks(execute=True):
        ids = key.post("/api/v1/logs/", {"logs": entries(200)}, format="json").json()["ids"]
    routed = set(Example.objects.filter(dataset=dataset).values_list("source_log", flat=True))
    assert routed == {i for i in ids if sampled(i, 0.25, seed=rule["id"])}
    assert 20 < len(routed) < 80


def test_it_refuses_bad_rules_and_deletes_them(
    api_for, owner, teammate, team, dataset, other_dataset
):
    url = f"/api/v1/teams/{team.pk}/capture-rules/"
    api = api_for(owner)
    assert (
        api.post(url, {"dataset": dataset.pk, "sample_rate": 0}, format="json").status_code == 400
    )
    assert (
        api.post(url, {"dataset": dataset.pk, "filter": {"x": 1}}, format="json").status_code == 400
    )
    assert api.post(url, {"dataset": other_dataset.pk}, format="json").status_code == 404
    assert api_for(teammate).post(url, {"dataset": dataset.pk}, format="json").status_code == 403
    rule = api.post(url, {"dataset": dataset.pk}, format="json").json()
    assert api.delete(url, {"id": rule["id"]}, format="json").status_code == 204
    assert api.get(url).json() == []
