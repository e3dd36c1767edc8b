"""Embedding matrices through object storage: the worker publishes each generation, a web
machine without the worker's folder reads it from the store (docs/deployment.md, "Storage")."""

from __future__ import annotations

import shutil

import pytest

from semantic.services import jobs
from semantic.services.embedding_models import embeddings_folder
from semantic.services.embedding_store import embeddings_folder_for_reading
from semantic.services.search import dataset_semantic_search
from semantic.store import embeddings_read

pytestmark = pytest.mark.django_db


def chat(q: str, a: str) -> list[dict]:
    return [{"role": "user", "content": q}, {"role": "assistant", "content": a}]


@pytest.fixture
def examples(dataset, owner, make_example):
    texts = [("refund my order", "sure"), ("reset my password", "done"), ("bake a cake", "ok")]
    return [make_example(dataset, owner, messages=chat(q, a)) for q, a in texts]


def _embed(owner, dataset, model, monkeypatch, capture):
    monkeypatch.setattr(jobs, "embedding_job_enqueue", lambda job_id: None)
    with capture(execute=True):
        job = jobs.embedding_job_create(user=owner, dataset=dataset, model=model)
    jobs.embedding_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == "succeeded"


def test_it_searches_embeddings_the_worker_published_elsewhere(
    s3_storage, embedding_served, owner, dataset, examples, tiny_bert_dir, monkeypatch,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    model = str(tiny_bert_dir)
    _embed(owner, dataset, model, monkeypatch, django_capture_on_commit_callbacks)
    worker_folder = embeddings_folder(dataset_id=dataset.pk, model_name=model)
    expected = dataset_semantic_search(dataset=dataset, text="refund please")
    # The web machine: the worker's folder is not there; only the store is shared.
    shutil.rmtree(worker_folder)
    folder = embeddings_folder_for_reading(dataset=dataset, model_name=model)
    assert folder != worker_folder
    stored = embeddings_read(folder)
    assert sorted(stored.examples.tolist()) == sorted(e.pk for e in examples)
    assert dataset_semantic_search(dataset=dataset, text="refund please") == expected


def test_it_reads_this_machines_folder_with_the_default_storage(
    embedding_settings, owner, dataset, examples, tiny_bert_dir, monkeypatch,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    model = str(tiny_bert_dir)
    _embed(owner, dataset, model, monkeypatch, django_capture_on_commit_callbacks)
    local = embeddings_folder(dataset_id=dataset.pk, model_name=model)
    assert embeddings_folder_for_reading(dataset=dataset, model_name=model) == local
