"""The pairwise review API (DESIGN §8): create, next item (blind), judgments, results, saving
the picks as preference pairs."""

from __future__ import annotations

import json

import pytest
import yaml

from datasets_app.models import Example
from tests.evaluation.test_pairwise_service import finished_run

pytestmark = pytest.mark.django_db


@pytest.fixture
def runs(suite):
    return finished_run(suite, "tuned-model"), finished_run(suite, "base-model")


def base(run_id):
    return f"/api/v1/eval-runs/{run_id}/pairwise/"


@pytest.fixture
def review(api_for, owner, runs):
    response = api_for(owner).post(base(runs[0].pk), {"against": runs[1].pk}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def test_it_creates_a_review_once(api_for, owner, runs, review):
    assert (review["run"], review["against"], review["item_count"]) == (
        runs[0].pk,
        runs[1].pk,
        5,
    )
    again = api_for(owner).post(base(runs[0].pk), {"against": runs[1].pk}, format="json")
    assert again.status_code == 200 and again.json()["id"] == review["id"]
    listed = api_for(owner).get(base(runs[1].pk)).json()
    assert [r["id"] for r in listed] == [review["id"]]
    # the seed would tell which run each item shows as A: never in a payload
    assert "seed" not in review and "seed" not in listed[0]
    assert "seed" not in api_for(owner).get(f"{base(runs[0].pk)}{review['id']}/").json()


def test_it_names_the_field_when_runs_cannot_be_reviewed(api_for, owner, suite, runs):
    client = api_for(owner)
    running = finished_run(suite, "still-going", status="running")
    response = client.post(base(runs[0].pk), {"against": running.pk}, format="json")
    assert response.status_code == 409
    assert response.json()["errors"][0]["path"] == "against"
    response = client.post(base(runs[0].pk), {"against": runs[0].pk}, format="json")
    assert response.status_code == 400 and response.json()["errors"][0]["path"] == "against"
    response = client.post(base(runs[0].pk), {"against": "x"}, format="json")
    assert response.status_code == 400
    assert client.post(base(runs[0].pk), {"against": 999_999}, format="json").status_code == 404


def test_it_hides_other_teams_reviews(api_for, outsider, review, runs):
    client = api_for(outsider)
    url = f"{base(runs[0].pk)}{review['id']}/"
    assert client.get(url).status_code == 404
    assert client.get(f"{url}next/").status_code == 404
    assert client.post(f"{url}judgments/", {"item": 1, "winner": "a"}).status_code == 404


def test_it_404s_a_review_under_another_run(api_for, owner, review, runs):
    assert api_for(owner).get(f"{base(runs[1].pk)}{review['id']}/").status_code == 404


def test_it_never_names_a_run_or_model_before_the_judgment(api_for, teammate, review, runs):
    client = api_for(teammate)
    url = f"{base(runs[0].pk)}{review['id']}/"
    item = client.get(f"{url}next/").json()
    assert set(item) == {"id", "position", "prompt", "tools", "answer_a", "answer_b", "progress"}
    rest = json.dumps({k: v for k, v in item.items() if k not in ("answer_a", "answer_b")})
    for secret in ("tuned-model", "base-model", "run", "against", "model"):
        assert secret not in rest
    assert {item["answer_a"], item["answer_b"]} == {
        f"tuned-model answer {item['position']}",
        f"base-model answer {item['position']}",
    }
    assert item["progress"] == {"judged": 0, "total": 5}
    stored = client.post(f"{url}judgments/", {"item": item["id"], "winner": "a"}, format="json")
    assert stored.status_code == 201
    tuned_was_a = item["answer_a"].startswith("tuned-model")
    assert stored.json()["winner"] == ("run" if tuned_was_a else "against")
    listed = client.get(f"{url}judgments/").json()
    assert [j["item"] for j in listed["judgments"]] == [item["id"]]
    assert (listed["n"], listed["method"]) == (1, "wilson")


def test_it_takes_skips_and_refuses_a_second_judgment(api_for, teammate, review, runs):
    client = api_for(teammate)
    url = f"{base(runs[0].pk)}{review['id']}/"
    item = client.get(f"{url}next/").json()
    assert client.post(f"{url}judgments/", {"item": item["id"]}, format="json").status_code == 400
    body = {"item": item["id"], "winner": "a", "skip": True}
    assert client.post(f"{url}judgments/", body, format="json").status_code == 400
    skipped = client.post(f"{url}judgments/", {"item": item["id"], "skip": True}, format="json")
    assert skipped.status_code == 201 and skipped.json()["choice"] == "skipped"
    again = client.post(f"{url}judgments/", {"item": item["id"], "winner": "b"}, format="json")
    assert again.status_code == 409 and again.json()["errors"][0]["path"] == "item"
    assert client.get(f"{url}next/").json()["id"] != item["id"]


def test_it_reports_the_win_rate_and_saves_the_picks(api_for, owner, review, runs, dataset):
    client = api_for(owner)
    url = f"{base(runs[0].pk)}{review['id']}/"
    while True:
        response = client.get(f"{url}next/")
        if response.status_code == 204:
            break
        item = response.json()
        pick = "a" if item["answer_a"].startswith("tuned-model") else "b"
        client.post(f"{url}judgments/", {"item": item["id"], "winner": pick}, format="json")
    results = client.get(f"{url}results/").json()
    assert (results["wins"], results["n"], results["win_rate"]) == (5, 5, 1.0)
    # Wilson at 5 of 5: the lower bound is n / (n + z^2)
    assert results["ci_low"] == pytest.approx(5 / (5 + 1.959963984540054**2))
    assert results["ci_high"] == 1.0
    assert results["ties_rule"] == "ties count as half a win"
    assert client.get(url).json()["progress"] == {"judged": 5, "total": 5}
    saved = client.post(f"{url}save-preferences/", {"dataset": dataset.pk}, format="json")
    assert saved.status_code == 201, saved.content
    assert len(saved.json()["created"]) == 5 and saved.json()["skipped_duplicates"] == 0
    assert Example.objects.filter(dataset=dataset, source_format="pairwise_review").count() == 5


def test_it_saves_picks_only_into_a_curated_dataset_of_the_team(
    api_for, owner, teammate, review, runs, other_dataset, dataset
):
    url = f"{base(runs[0].pk)}{review['id']}/save-preferences/"
    foreign = api_for(owner).post(url, {"dataset": other_dataset.pk}, format="json")
    assert foreign.status_code == 404
    annotator = api_for(teammate).post(url, {"dataset": dataset.pk}, format="json")
    assert annotator.status_code == 403
    assert api_for(owner).post(url, {}, format="json").status_code == 400


def test_it_documents_the_routes_in_the_schema(client):
    schema = yaml.safe_load(client.get("/api/v1/schema/").content)
    paths = schema["paths"]
    review = "/api/v1/eval-runs/{eval_run_id}/pairwise/{review_id}/"
    for suffix in ("", "next/", "judgments/", "results/", "save-preferences/"):
        assert review + suffix in paths
    assert "/api/v1/eval-runs/{eval_run_id}/pairwise/" in paths
    results = paths[review + "results/"]["get"]["responses"]["200"]["content"]
    ref = results["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    assert (
        "ties count as half"
        in schema["components"]["schemas"][ref]["properties"]["win_rate"]["description"]
    )
