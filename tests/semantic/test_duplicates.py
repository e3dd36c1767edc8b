"""Dedup method ``semantic``: paraphrases that MinHash at 0.8 misses end up in one cluster of the
existing review workflow, every pair verified by its exact cosine; a dataset never embedded is
refused with what to do."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from datasets_app.models import DuplicateCluster
from datasets_app.services import dedup as dedup_services
from datasets_app.services.dedup import jobs as dedup_jobs
from finetunedb.exceptions import ApplicationError
from semantic.models import EmbeddingJob
from semantic.services import jobs
from semantic.services.embedding_models import embeddings_folder
from semantic.store import embeddings_write

pytestmark = pytest.mark.django_db

PARAPHRASES = [
    ("How can I get my money back for this order?", "I would like a refund for my purchase."),
    ("My password stopped working, how do I reset it?", "I forgot my login, can I change it?"),
]
UNRELATED = ["What will the weather be like tomorrow?", "Give me a recipe for a chocolate cake."]


def chat(q: str) -> list[dict]:
    return [{"role": "user", "content": q}, {"role": "assistant", "content": "Sure."}]


@pytest.fixture
def rows(dataset, owner, make_example):
    texts = [t for pair in PARAPHRASES for t in pair] + UNRELATED
    return [make_example(dataset, owner, messages=chat(t)) for t in texts]


@pytest.fixture
def run_dedup(monkeypatch, django_capture_on_commit_callbacks):
    monkeypatch.setattr(
        dedup_jobs, "dedup_job_enqueue", lambda pk: dedup_jobs.dedup_job_run(job_id=pk)
    )

    def run(user, dataset, **options):
        with django_capture_on_commit_callbacks(execute=True):
            job = dedup_services.dedup_job_create(user=user, dataset=dataset, **options)
        job.refresh_from_db()
        return job

    return run


def plant(dataset, examples, vectors, model="all-MiniLM-L6-v2"):
    """Stored embeddings as an embedding job would leave them (given vectors)."""
    EmbeddingJob.objects.create(dataset=dataset, model_name=model, status="succeeded")
    for e in examples:
        e.refresh_from_db()
    embeddings_write(
        embeddings_folder(dataset_id=dataset.pk, model_name=model),
        vectors=vectors,
        revisions=[e.current_revision_id for e in examples],
        examples=[e.pk for e in examples],
    )


def members(dataset) -> list[list[int]]:
    return sorted(
        sorted(m.example_id for m in c.members.all())
        for c in DuplicateCluster.objects.filter(dataset=dataset, method="semantic")
    )


def test_it_clusters_paraphrases_that_minhash_misses(
    embedding_settings, owner, dataset, rows, run_dedup
):
    near = run_dedup(owner, dataset, method="near", threshold=0.8)
    assert (near.status, near.clusters_found) == ("succeeded", 0)
    rng = np.random.default_rng(0)
    topics = rng.standard_normal((4, 16))
    vectors = np.stack(
        [topics[0], topics[0] + 0.1, topics[1], topics[1] - 0.1, topics[2], topics[3]]
    )
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    plant(dataset, rows, vectors)
    job = run_dedup(owner, dataset, method="semantic")
    assert (job.status, job.threshold, job.clusters_found, job.duplicates_found) == (
        "succeeded", 0.9, 2, 2,
    )  # fmt: skip
    assert members(dataset) == [[rows[0].pk, rows[1].pk], [rows[2].pk, rows[3].pk]]
    cluster = DuplicateCluster.objects.filter(method="semantic").first()
    exact = float(vectors[0].astype(np.float16).astype(np.float32) @ vectors[1].astype(np.float16))
    assert cluster.min_similarity == pytest.approx(exact, abs=1e-3)


def test_it_honours_pairs_marked_not_duplicates(
    embedding_settings, owner, dataset, rows, run_dedup
):
    vectors = np.zeros((6, 4))
    vectors[:2, 0] = 1.0  # two identical rows, the rest apart
    vectors[2:] = np.eye(4)
    plant(dataset, rows, vectors)
    assert run_dedup(owner, dataset, method="semantic").clusters_found == 1
    cluster = DuplicateCluster.objects.get(method="semantic")
    dedup_services.duplicate_clusters_resolve(
        user=owner, dataset=dataset, action="not_duplicates", cluster=cluster.pk
    )
    again = run_dedup(owner, dataset, method="semantic")
    assert (again.status, again.clusters_found) == ("succeeded", 0)


def test_it_refuses_a_dataset_never_embedded(embedding_settings, owner, dataset, rows, run_dedup):
    with pytest.raises(ApplicationError) as caught:
        run_dedup(owner, dataset, method="semantic")
    assert caught.value.status_code == 409
    assert "embed it first" in caught.value.message


def test_it_refuses_semantic_on_one_side_only(embedding_settings, owner, dataset, run_dedup):
    with pytest.raises(ApplicationError) as caught:
        run_dedup(owner, dataset, method="semantic", fields="prompt")
    assert caught.value.errors[0]["path"] == "fields"


@pytest.mark.slow
@pytest.mark.skipif(
    importlib.util.find_spec("all_minilm_l6_v2") is None, reason="bundled model not installed"
)
def test_it_finds_real_paraphrases_with_the_bundled_model(
    settings, tmp_path_factory, owner, dataset, rows, run_dedup, monkeypatch,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    from semantic.services.embedding_models import embedders_forget

    settings.FINETUNEDB_MODELS_DIR = tmp_path_factory.getbasetemp() / "bundled-embedding"
    settings.DATA_DIR = tmp_path_factory.mktemp("data")
    embedders_forget()
    monkeypatch.setattr(jobs, "embedding_job_enqueue", lambda pk: jobs.embedding_job_run(job_id=pk))
    with django_capture_on_commit_callbacks(execute=True):
        jobs.embedding_job_create(user=owner, dataset=dataset)
    job = run_dedup(owner, dataset, method="semantic", threshold=0.5)
    assert job.status == "succeeded"
    assert members(dataset) == [[rows[0].pk, rows[1].pk], [rows[2].pk, rows[3].pk]]
    embedders_forget()


def test_it_answers_409_through_the_api_until_the_dataset_is_embedded(
    embedding_settings, api_for, owner, dataset, rows
):
    response = api_for(owner).post(
        f"/api/v1/datasets/{dataset.pk}/dedup/", {"method": "semantic"}, format="json"
    )
    assert response.status_code == 409
    assert "embed it first" in response.json()["detail"]
