"""POST /api/v1/datasets/{id}/from-logs/: logs become examples that keep their log's id."""

import pytest

from capture.services.logs import log_batch_create
from datasets_app.models import Example

pytestmark = pytest.mark.django_db

ANSWER = {"role": "assistant", "content": "Here you go."}


def logs(team, n, **extra):
    entries = [
        {
            "messages": [{"role": "user", "content": f"question {i}"}],
            "response": ANSWER,
            "model": "m",
            **extra,
        }
        for i in range(n)
    ]
    return log_batch_create(team=team, entries=entries).ids


def test_it_makes_examples_that_link_back_to_their_logs(api_for, owner, team, dataset):
    ids = logs(team, 3, metadata={"ticket": "T-1"})
    response = api_for(owner).post(
        f"/api/v1/datasets/{dataset.pk}/from-logs/", {"ids": ids}, format="json"
    )
    assert response.status_code == 201, response.content
    assert response.json()["created"] == 3 and response.json()["skipped_duplicates"] == 0
    made = Example.objects.filter(pk__in=response.json()["ids"]).select_related("current_revision")
    assert sorted(e.source_log for e in made) == sorted(ids)
    assert {e.status for e in made} == {"needs_review"}
    first = made.get(source_log=ids[0]).current_revision
    assert first.messages[-1] == ANSWER and first.metadata == {"ticket": "T-1"}


def test_it_skips_and_counts_duplicates_of_existing_examples(api_for, owner, team, dataset):
    ids = logs(team, 2) + logs(team, 2)  # the second two repeat the first two
    api = api_for(owner)
    url = f"/api/v1/datasets/{dataset.pk}/from-logs/"
    body = api.post(url, {"ids": ids}, format="json").json()
    assert body["created"] == 2 and body["skipped_duplicates"] == 2
    again = api.post(url, {"ids": ids[:2]}, format="json").json()
    assert again["created"] == 0 and again["skipped_duplicates"] == 2


def test_it_samples_a_filter_the_same_way_every_time(api_for, owner, team, dataset, other_dataset):
    logs(team, 30, tags=["prod"])
    logs(team, 5, tags=["test"])
    api = api_for(owner)
    url = f"/api/v1/datasets/{dataset.pk}/from-logs/"
    body = {"filter": {"tag": "prod"}, "sample": 10, "seed": 7}
    made = api.post(url, body, format="json").json()
    assert made["created"] == 10
    sources = set(Example.objects.filter(dataset=dataset).values_list("source_log", flat=True))
    Example.objects.filter(dataset=dataset).delete()
    api.post(url, body, format="json")
    assert (
        set(Example.objects.filter(dataset=dataset).values_list("source_log", flat=True)) == sources
    )


def test_it_refuses_another_teams_logs_and_bad_input(
    api_for, owner, teammate, team, dataset, other_team
):
    theirs = logs(other_team, 1)
    api = api_for(owner)
    url = f"/api/v1/datasets/{dataset.pk}/from-logs/"
    assert api.post(url, {"ids": theirs}, format="json").status_code == 400
    assert (
        api.post(url, {"filter": {"colour": "red"}}, format="json").json()["errors"][0]["path"]
        == "filter.colour"
    )
    assert api.post(url, {}, format="json").status_code == 400
    assert api_for(teammate).post(url, {"ids": logs(team, 1)}, format="json").status_code == 403
    assert Example.objects.count() == 0


def test_it_shows_the_source_log_on_the_example(api_for, owner, team, dataset):
    ids = logs(team, 1)
    api = api_for(owner)
    made = api.post(f"/api/v1/datasets/{dataset.pk}/from-logs/", {"ids": ids}, format="json")
    example = api.get(f"/api/v1/examples/{made.json()['ids'][0]}/").json()
    assert example["source_log"] == ids[0]
