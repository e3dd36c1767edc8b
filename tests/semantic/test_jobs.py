"""The embedding job: embeds only revisions without a vector, keeps the rest, publishes one
matrix per dataset; progress on the row; no model outside the allowed list."""

from __future__ import annotations

import numpy as np
import pytest

from datasets_app.services.examples import example_update
from finetunedb.exceptions import ApplicationError
from semantic.models import EmbeddingJob
from semantic.services import jobs
from semantic.services.embedding_models import embeddings_folder
from semantic.store import embeddings_read

pytestmark = pytest.mark.django_db


def chat(q: str, a: str) -> list[dict]:
    return [{"role": "user", "content": q}, {"role": "assistant", "content": a}]


@pytest.fixture
def sent(monkeypatch):
    queued: list[int] = []
    monkeypatch.setattr(jobs, "embedding_job_enqueue", queued.append)
    return queued


@pytest.fixture
def examples(dataset, owner, make_example):
    texts = [("refund my order", "sure"), ("reset my password", "done"), ("bake a cake", "ok")]
    return [make_example(dataset, owner, messages=chat(q, a)) for q, a in texts]


def run_job(owner, dataset, tiny_bert_dir, django_capture_on_commit_callbacks) -> EmbeddingJob:
    with django_capture_on_commit_callbacks(execute=True):
        job = jobs.embedding_job_create(user=owner, dataset=dataset, model=str(tiny_bert_dir))
    jobs.embedding_job_run(job_id=job.pk)
    job.refresh_from_db()
    return job


def test_it_embeds_every_live_example_once(
    embedding_settings, owner, dataset, examples, tiny_bert_dir, sent,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    job = run_job(owner, dataset, tiny_bert_dir, django_capture_on_commit_callbacks)
    assert sent == [job.pk]
    assert (job.status, job.examples_total, job.examples_embedded) == ("succeeded", 3, 3)
    assert job.progress == 1.0
    stored = embeddings_read(
        embeddings_folder(dataset_id=dataset.pk, model_name=str(tiny_bert_dir))
    )
    assert sorted(stored.examples.tolist()) == sorted(e.pk for e in examples)
    assert stored.vectors.dtype == np.float16 and stored.vectors.shape == (3, 32)

    again = run_job(owner, dataset, tiny_bert_dir, django_capture_on_commit_callbacks)
    assert (again.status, again.examples_to_embed, again.examples_embedded) == ("succeeded", 0, 0)


def test_it_re_embeds_only_the_edited_example(
    embedding_settings, owner, dataset, examples, tiny_bert_dir, sent,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    run_job(owner, dataset, tiny_bert_dir, django_capture_on_commit_callbacks)
    folder = embeddings_folder(dataset_id=dataset.pk, model_name=str(tiny_bert_dir))
    before = embeddings_read(folder)
    edited = examples[1]
    example_update(
        user=owner,
        example=edited,
        expected_revision=edited.revision,
        changes={"messages": chat("forgot my login email", "here")},
    )
    job = run_job(owner, dataset, tiny_bert_dir, django_capture_on_commit_callbacks)
    assert (job.examples_total, job.examples_to_embed, job.examples_embedded) == (3, 1, 1)
    after = embeddings_read(folder)
    assert after.count == 3
    edited.refresh_from_db()
    assert edited.current_revision_id in after.revisions.tolist()
    old_row = before.examples.tolist().index(examples[0].pk)
    new_row = after.examples.tolist().index(examples[0].pk)
    assert np.array_equal(before.vectors[old_row], after.vectors[new_row])  # kept, not redone


def test_it_refuses_a_model_the_deployment_did_not_list(
    embedding_settings, owner, dataset, tmp_path
):
    with pytest.raises(ApplicationError) as caught:
        jobs.embedding_job_create(user=owner, dataset=dataset, model=str(tmp_path))
    assert caught.value.errors[0]["path"] == "model"
    assert not EmbeddingJob.objects.exists()


def test_it_refuses_a_second_job_while_one_is_queued(
    embedding_settings, owner, dataset, tiny_bert_dir, sent
):
    jobs.embedding_job_create(user=owner, dataset=dataset, model=str(tiny_bert_dir))
    with pytest.raises(ApplicationError) as caught:
        jobs.embedding_job_create(user=owner, dataset=dataset, model=str(tiny_bert_dir))
    assert caught.value.status_code == 409
    assert EmbeddingJob.objects.count() == 1


def test_it_lets_only_curators_start_a_job(embedding_settings, teammate, dataset, tiny_bert_dir):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        jobs.embedding_job_create(user=teammate, dataset=dataset, model=str(tiny_bert_dir))
