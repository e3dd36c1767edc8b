"""POST /dedup/, GET /dedup-jobs/{id}/, GET and resolve /duplicate-clusters/, /contamination/."""

from pathlib import Path

import pytest
from django.core.files import File

from datasets_app.models import Dataset, DuplicateCluster, Example
from datasets_app.services.imports import import_job_create, import_job_run
from finetunedb.teams.models import Membership

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "dedup"


@pytest.fixture
def import_file(owner):
    def run(dataset, name):
        path = FIXTURES / name
        with open(path, "rb") as handle:
            upload = File(handle, name=name)
            upload.size = path.stat().st_size
            job = import_job_create(user=owner, dataset=dataset, upload=upload)
        import_job_run(job_id=job.pk)
        return list(Example.objects.filter(dataset=dataset).order_by("pk"))

    return run


@pytest.fixture
def rows(dataset, import_file):
    return import_file(dataset, "alpaca_groups.json")


@pytest.fixture
def dedup(api_for, owner, dataset, django_capture_on_commit_callbacks):
    def run(user=owner, **body):
        client = api_for(user)
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(f"/api/v1/datasets/{dataset.pk}/dedup/", body, format="json")
        return client, response

    return run


def test_it_runs_an_exact_job_and_lists_its_clusters(dedup, dataset, rows):
    client, response = dedup(method="exact")
    assert response.status_code == 202, response.content
    assert response.json()["status"] == "queued"
    job = client.get(response["Location"]).json()
    assert (job["status"], job["clusters_found"], job["duplicates_found"]) == ("succeeded", 3, 4)
    listing = client.get(f"/api/v1/datasets/{dataset.pk}/duplicate-clusters/").json()
    assert listing["count"] == 3
    first = listing["results"][0]
    assert first["method"] == "exact" and first["similarity_min"] == first["similarity_max"] == 1.0
    assert [m["example"] for m in first["members"]] == [rows[0].pk, rows[14].pk]
    examples = client.get(
        f"/api/v1/datasets/{dataset.pk}/examples/", {"cluster": first["id"]}
    ).json()
    assert sorted(e["id"] for e in examples["results"]) == [rows[0].pk, rows[14].pk]


def test_it_filters_clusters_by_method(dedup, api_for, owner, dataset, rows):
    dedup(method="exact")
    dedup(method="near", threshold=0.8)
    client = api_for(owner)
    url = f"/api/v1/datasets/{dataset.pk}/duplicate-clusters/"
    assert client.get(url, {"method": "near"}).json()["count"] == 4
    assert client.get(url, {"method": "exact"}).json()["count"] == 3
    assert client.get(url, {"method": "bogus"}).json()["count"] == 0


def test_it_validates_the_options(dedup, rows):
    _, response = dedup(method="near", threshold=0.2)
    assert response.status_code == 400
    assert response.json()["errors"][0]["path"] == "threshold"


def test_it_forbids_an_annotator_to_dedup_or_resolve(dedup, api_for, teammate, dataset, rows):
    _, response = dedup(user=teammate, method="exact")
    assert response.status_code == 403
    dedup(method="exact")
    client = api_for(teammate)
    url = f"/api/v1/datasets/{dataset.pk}/duplicate-clusters/"
    assert client.get(url).status_code == 200  # reading is allowed
    response = client.post(
        url + "resolve/", {"action": "keep_best", "clusters": "all"}, format="json"
    )
    assert response.status_code == 403
    assert not Example.objects.filter(status="archived").exists()


def test_it_resolves_with_keep_best_and_keep(dedup, api_for, owner, dataset, rows):
    dedup(method="exact")
    client = api_for(owner)
    url = f"/api/v1/datasets/{dataset.pk}/duplicate-clusters/"
    clusters = client.get(url).json()["results"]
    response = client.post(
        url + "resolve/",
        {"action": "keep", "cluster": clusters[0]["id"], "keep": rows[14].pk},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["archived"] == 1
    assert Example.objects.get(pk=rows[0].pk).status == "archived"
    response = client.post(
        url + "resolve/", {"action": "keep_best", "clusters": "all"}, format="json"
    )
    assert response.json() | {"action": "keep_best"} == {
        "action": "keep_best",
        "clusters_resolved": 2,
        "archived": 3,
        "tagged": 0,
        "pairs": 0,
    }
    assert client.get(url).json()["count"] == 0


def test_it_answers_400_for_a_foreign_cluster_and_changes_nothing(
    dedup, api_for, owner, outsider, dataset, other_dataset, rows
):
    dedup(method="exact")
    foreign = DuplicateCluster.objects.create(
        dataset=other_dataset,
        method="exact",
        fields="conversation",
        threshold=1,
        min_similarity=1,
        max_similarity=1,
        size=0,
    )
    mine = DuplicateCluster.objects.filter(dataset=dataset).first()
    response = api_for(owner).post(
        f"/api/v1/datasets/{dataset.pk}/duplicate-clusters/resolve/",
        {"action": "keep_best", "clusters": [mine.pk, foreign.pk]},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["code"] == "unknown_ids"
    assert not Example.objects.filter(status="archived").exists()
    assert DuplicateCluster.objects.filter(dataset=dataset).count() == 3


def test_it_hides_a_job_from_an_outsider(dedup, api_for, outsider, rows):
    client, response = dedup(method="exact")
    assert api_for(outsider).get(response["Location"]).status_code == 404


def test_it_checks_contamination_against_a_dataset_of_the_team(
    api_for, owner, team, dataset, import_file
):
    alpaca = import_file(dataset, "alpaca_small.json")
    evals = Dataset.objects.create(team=team, name="evals", created_by=owner)
    chat = import_file(evals, "chat_small.jsonl")
    response = api_for(owner).post(
        f"/api/v1/datasets/{dataset.pk}/contamination/", {"against": evals.pk}, format="json"
    )
    assert response.status_code == 200, response.content
    body = response.json()
    kinds = {(o["a"], o["b"]): o["kind"] for o in body["overlaps"]}
    assert kinds[(alpaca[0].pk, chat[0].pk)] == "exact"
    assert kinds[(alpaca[2].pk, chat[1].pk)] == "near"
    assert body["examples"] == len({o["a"] for o in body["overlaps"]})


def test_it_answers_404_for_another_teams_dataset_as_against(
    api_for, owner, outsider, dataset, other_dataset
):
    # even a member of both teams cannot mix them, and a stranger's dataset reads as absent
    response = api_for(owner).post(
        f"/api/v1/datasets/{dataset.pk}/contamination/",
        {"against": other_dataset.pk},
        format="json",
    )
    assert response.status_code == 404
    Membership.objects.create(team=other_dataset.team, user=owner, role="viewer")
    response = api_for(owner).post(
        f"/api/v1/datasets/{dataset.pk}/contamination/",
        {"against": other_dataset.pk},
        format="json",
    )
    assert response.status_code == 400
