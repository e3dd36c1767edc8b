"""The dataset setting ``embed_after_import`` (off by default): a successful import queues the
dataset's embedding job through the job service, joining one already queued; a job that finished
while an import published looks again and queues a follow-up."""

from __future__ import annotations

import orjson
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from datasets_app.services.imports import import_job_create
from semantic.bundled import BUNDLED_EMBEDDING_MODEL
from semantic.models import EmbeddingJob
from semantic.services import jobs
from semantic.services.auto import embedding_job_follow_up
from semantic.services.embedding_models import embeddings_folder
from semantic.store import embeddings_read

pytestmark = pytest.mark.django_db


def chat(q: str, a: str = "sure") -> list[dict]:
    return [{"role": "user", "content": q}, {"role": "assistant", "content": a}]


def upload(*questions: str) -> SimpleUploadedFile:
    lines = b"".join(orjson.dumps({"messages": chat(q)}) + b"\n" for q in questions)
    return SimpleUploadedFile("chats.jsonl", lines)


@pytest.fixture
def sent(monkeypatch):
    queued: list[int] = []
    monkeypatch.setattr(jobs, "embedding_job_enqueue", queued.append)
    return queued


def auto_on(dataset):
    dataset.settings = {**dataset.settings, "embed_after_import": True}
    dataset.save(update_fields=["settings"])


def do_import(owner, dataset, capture, *questions):
    with capture(execute=True):
        job = import_job_create(user=owner, dataset=dataset, upload=upload(*questions))
    job.refresh_from_db()
    return job


def test_it_embeds_nothing_after_an_import_by_default(
    embedding_settings, owner, dataset, sent, django_capture_on_commit_callbacks
):
    assert dataset.effective_settings["embed_after_import"] is False
    job = do_import(owner, dataset, django_capture_on_commit_callbacks, "refund my order")
    assert job.status == "succeeded"
    assert not EmbeddingJob.objects.filter(dataset=dataset).exists() and sent == []


def test_it_queues_the_embedding_job_after_a_successful_import(
    embedding_settings, owner, dataset, sent, django_capture_on_commit_callbacks
):
    auto_on(dataset)
    do_import(owner, dataset, django_capture_on_commit_callbacks, "refund my order", "bake a cake")
    [job] = EmbeddingJob.objects.filter(dataset=dataset)
    assert (job.status, job.model_name, job.created_by) == (
        "queued",
        BUNDLED_EMBEDDING_MODEL,
        owner,
    )
    assert sent == [job.pk]


def test_it_queues_nothing_after_a_failed_import(
    embedding_settings, owner, dataset, sent, django_capture_on_commit_callbacks
):
    auto_on(dataset)
    with django_capture_on_commit_callbacks(execute=True):
        bad = SimpleUploadedFile("chats.jsonl", b"{oops\n")
        job = import_job_create(user=owner, dataset=dataset, upload=bad)
    job.refresh_from_db()
    assert job.status == "failed"
    assert not EmbeddingJob.objects.filter(dataset=dataset).exists()


def test_it_joins_a_queued_job_instead_of_queueing_another(
    embedding_settings, owner, dataset, tiny_bert_dir, sent, django_capture_on_commit_callbacks
):
    auto_on(dataset)
    with django_capture_on_commit_callbacks(execute=True):
        queued = jobs.embedding_job_create(user=owner, dataset=dataset, model=str(tiny_bert_dir))
    do_import(owner, dataset, django_capture_on_commit_callbacks, "refund my order")
    do_import(owner, dataset, django_capture_on_commit_callbacks, "reset my password")
    assert list(EmbeddingJob.objects.filter(dataset=dataset)) == [queued] and sent == [queued.pk]


def test_it_embeds_the_imported_examples_with_the_datasets_model(
    embedding_settings, owner, dataset, make_example, tiny_bert_dir, sent,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    make_example(dataset, owner, messages=chat("cancel my order"))
    with django_capture_on_commit_callbacks(execute=True):
        first = jobs.embedding_job_create(user=owner, dataset=dataset, model=str(tiny_bert_dir))
    jobs.embedding_job_run(job_id=first.pk)
    auto_on(dataset)
    do_import(owner, dataset, django_capture_on_commit_callbacks, "refund my order", "bake a cake")
    job = EmbeddingJob.objects.filter(dataset=dataset).exclude(pk=first.pk).get()
    assert job.model_name == str(tiny_bert_dir)
    jobs.embedding_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert (job.status, job.examples_total, job.examples_embedded) == ("succeeded", 3, 2)
    stored = embeddings_read(
        embeddings_folder(dataset_id=dataset.pk, model_name=str(tiny_bert_dir))
    )
    assert sorted(stored.examples.tolist()) == sorted(dataset.examples.values_list("pk", flat=True))


def test_it_follows_a_job_that_missed_examples_imported_while_it_ran(
    embedding_settings, owner, dataset, make_example, tiny_bert_dir, sent,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    make_example(dataset, owner, messages=chat("cancel my order"))
    auto_on(dataset)
    with django_capture_on_commit_callbacks(execute=True):
        job = jobs.embedding_job_create(user=owner, dataset=dataset, model=str(tiny_bert_dir))
    jobs.embedding_job_run(job_id=job.pk)
    assert EmbeddingJob.objects.filter(dataset=dataset).count() == 1  # nothing was missed
    assert embedding_job_follow_up(job_id=job.pk) is None

    make_example(dataset, owner, messages=chat("refund my order"))  # arrived during the run
    with django_capture_on_commit_callbacks(execute=True):
        follow = embedding_job_follow_up(job_id=job.pk)
    assert follow is not None and follow.status == "queued" and follow.pk != job.pk
    assert follow.model_name == str(tiny_bert_dir) and sent[-1] == follow.pk


def test_it_refuses_a_setting_that_is_not_a_boolean(api_for, owner, dataset):
    response = api_for(owner).patch(
        f"/api/v1/datasets/{dataset.pk}/",
        {"settings": {"embed_after_import": "yes"}},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["path"] == "settings.embed_after_import"
    dataset.refresh_from_db()
    assert "embed_after_import" not in dataset.settings
    ok = api_for(owner).patch(
        f"/api/v1/datasets/{dataset.pk}/", {"settings": {"embed_after_import": True}}, format="json"
    )
    assert ok.status_code == 200 and ok.json()["settings"]["embed_after_import"] is True
