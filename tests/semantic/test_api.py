"""POST /api/v1/datasets/{id}/embeddings/ → 202 and a job; GET its status; ``?semantic=`` on the
examples list ranks by cosine, the query embedded by a live serving engine (a 503 that says what
to start when it is down or lacks the model); another team's dataset is a 404."""

from __future__ import annotations

import pytest

from datasets_app.services.examples import example_update
from semantic.services import jobs

pytestmark = pytest.mark.django_db

QUESTIONS = [
    "how do i get a refund for my order",
    "reset my password please",
    "bake a cake with flour and sugar",
    "is it cold or sunny today",
]


def chat(q: str) -> list[dict]:
    return [{"role": "user", "content": q}, {"role": "assistant", "content": "ok"}]


@pytest.fixture
def examples(dataset, owner, make_example):
    return [make_example(dataset, owner, messages=chat(q)) for q in QUESTIONS]


@pytest.fixture
def embedded(embedding_served, api_for, owner, dataset, examples, tiny_bert_dir, monkeypatch,
             django_capture_on_commit_callbacks):  # fmt: skip
    monkeypatch.setattr(jobs, "embedding_job_enqueue", lambda pk: jobs.embedding_job_run(job_id=pk))
    with django_capture_on_commit_callbacks(execute=True):
        response = api_for(owner).post(
            f"/api/v1/datasets/{dataset.pk}/embeddings/",
            {"model": str(tiny_bert_dir)},
            format="json",
        )
    assert response.status_code == 202, response.json()
    return response


def test_it_accepts_a_job_and_reports_it_done(embedded, api_for, owner, dataset):
    body = embedded.json()
    assert body["status"] == "queued"
    job = api_for(owner).get(embedded["Location"]).json()
    assert (job["status"], job["examples_embedded"], job["progress"]) == ("succeeded", 4, 1.0)
    latest = api_for(owner).get(f"/api/v1/datasets/{dataset.pk}/embeddings/").json()
    assert latest["id"] == body["id"]


def test_it_ranks_the_example_with_the_same_text_first(embedded, api_for, owner, dataset, examples):
    response = api_for(owner).get(
        f"/api/v1/datasets/{dataset.pk}/examples/", {"semantic": QUESTIONS[2]}
    )
    assert response.status_code == 200
    ids = [row["id"] for row in response.json()["results"]]
    assert ids[0] == examples[2].pk
    assert sorted(ids) == sorted(e.pk for e in examples)


def test_it_drops_an_example_edited_since_the_last_job(embedded, api_for, owner, dataset, examples):
    edited = examples[2]
    example_update(
        user=owner, example=edited, expected_revision=1, changes={"messages": chat("weather")}
    )
    response = api_for(owner).get(
        f"/api/v1/datasets/{dataset.pk}/examples/", {"semantic": QUESTIONS[2]}
    )
    assert edited.pk not in [row["id"] for row in response.json()["results"]]


def test_it_says_how_to_embed_a_dataset_never_embedded(
    embedding_settings, api_for, owner, dataset, examples
):
    response = api_for(owner).get(f"/api/v1/datasets/{dataset.pk}/examples/", {"semantic": "x"})
    assert response.status_code == 409
    assert "embeddings/" in response.json()["detail"]


def test_it_refuses_an_unlisted_model_and_stores_nothing(
    embedding_settings, api_for, owner, dataset, tmp_path
):
    response = api_for(owner).post(
        f"/api/v1/datasets/{dataset.pk}/embeddings/", {"model": str(tmp_path)}, format="json"
    )
    assert response.status_code == 400
    assert "FINETUNEDB_EMBEDDING_MODELS" in str(response.json())
    assert api_for(owner).get(f"/api/v1/datasets/{dataset.pk}/embeddings/").status_code == 404


def test_it_hides_another_teams_dataset_and_jobs(embedded, api_for, outsider, dataset):
    outsider_api = api_for(outsider)
    assert outsider_api.post(f"/api/v1/datasets/{dataset.pk}/embeddings/").status_code == 404
    assert outsider_api.get(embedded["Location"]).status_code == 404
    search = outsider_api.get(f"/api/v1/datasets/{dataset.pk}/examples/", {"semantic": "cake"})
    assert search.status_code == 404
