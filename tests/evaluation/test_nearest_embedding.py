"""GET /api/v1/eval-results/{id}/nearest-training-examples/?method=embedding and its page: the
version's training examples ranked by the exact cosine of their stored embeddings (the tiny BERT
of tests/semantic) to the item's prompt, embedded by a live serving engine; a 409 that says to
embed when they were not."""

from __future__ import annotations

import numpy as np
import pytest

from datasets_app.models import VersionEntry
from datasets_app.services.examples import example_update
from evaluation.models import EvalResult, EvalRun
from evaluation.services.items import prompt_text, split_prompt
from semantic.services import jobs
from semantic.services.embedding_models import embedder_get, embedders_forget
from tests.semantic.conftest import build_tiny_bert, embedding_engine_running
from training.models import ModelArtifact, TrainingRun

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def tiny_bert(tmp_path_factory):
    return build_tiny_bert(tmp_path_factory.mktemp("tiny-bert"))


@pytest.fixture(scope="module")
def engine(tmp_path_factory, tiny_bert):
    """The serving engine that embeds the item's prompt (never the web process)."""
    with embedding_engine_running(tmp_path_factory.mktemp("engine-models"), tiny_bert) as url:
        yield url


@pytest.fixture
def embedding_settings(settings, tmp_path, tiny_bert, engine):
    settings.FINETUNEDB_EMBEDDING_MODELS = [str(tiny_bert)]
    settings.FINETUNEDB_SERVING_URL = engine
    settings.DATA_DIR = tmp_path / "data"
    embedders_forget()
    yield settings
    embedders_forget()


@pytest.fixture
def failed(suite, gsm_version):
    run = TrainingRun.objects.create(
        version=gsm_version,
        dataset_version_hash=gsm_version.content_hash,
        base_model="x",
        config={},
        status="succeeded",
    )
    model = ModelArtifact.objects.create(run=run, path=f"runs/{run.pk}/model", weights_sha256="0")
    eval_run = EvalRun.objects.create(suite=suite, model=model, total=5, status="succeeded")
    entry = VersionEntry.objects.filter(version=gsm_version, split="test").order_by("example_id")[0]
    return EvalResult.objects.create(
        run=eval_run, entry=entry, position=0, output="I think 7", scores={}
    )


def embed_dataset(owner, dataset, tiny_bert, capture):
    with capture(execute=False):
        job = jobs.embedding_job_create(user=owner, dataset=dataset, model=str(tiny_bert))
    jobs.embedding_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == "succeeded"


def url(result, query="?method=embedding"):
    return f"/api/v1/eval-results/{result.pk}/nearest-training-examples/{query}"


def test_it_ranks_the_training_examples_by_the_cosine_of_their_embeddings(
    embedding_settings, api_for, owner, failed, gsm_version, tiny_bert,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    embed_dataset(owner, gsm_version.dataset, tiny_bert, django_capture_on_commit_callbacks)
    response = api_for(owner).get(url(failed, "?method=embedding&k=4"))
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["method"] == "embedding" and body["embedding_model"] == str(tiny_bert)
    assert "sentence embeddings" in body["similarity"] and body["not_embedded"] == 0

    # The expected order, computed here from the model itself over the version's train rows.
    embedder = embedder_get(str(tiny_bert))
    train = list(
        VersionEntry.objects.filter(version=gsm_version, split="train").select_related("revision")
    )
    docs = embedder.embed([jobs.example_embedding_text(e.revision.messages) for e in train])
    query = prompt_text(split_prompt(failed.entry.revision.messages)[0])
    cosines = docs.astype(np.float32) @ embedder.embed([query])[0].astype(np.float32)
    expected = [train[i].example_id for i in np.argsort(-cosines, kind="stable")[:4]]
    hits = body["results"]
    assert [h["example"] for h in hits] == expected
    by_example = {e.example_id: c for e, c in zip(train, cosines, strict=True)}
    for hit in hits:
        assert hit["similarity"] == pytest.approx(by_example[hit["example"]], abs=2e-3)
        assert hit["edit_url"] == f"/examples/{hit['example']}/edit/"


def test_it_answers_409_saying_to_embed_first(embedding_settings, api_for, owner, failed):
    response = api_for(owner).get(url(failed))
    assert response.status_code == 409
    detail = response.json()["detail"]
    assert "not embedded" in detail
    assert f"/api/v1/datasets/{failed.run.model.run.version.dataset_id}/embeddings/" in detail
    # n-gram stays the default and still answers
    assert api_for(owner).get(url(failed, "")).json()["method"] == "ngram"


def test_it_counts_a_training_example_edited_since_the_embedding_as_not_embedded(
    embedding_settings, api_for, owner, failed, gsm_version, tiny_bert,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    edited = (
        VersionEntry.objects.filter(version=gsm_version, split="train").order_by("example_id")[0]
    ).example
    example_update(
        user=owner,
        example=edited,
        expected_revision=edited.revision,
        changes={
            "messages": [
                {"role": "user", "content": "bake a cake"},
                {"role": "assistant", "content": "ok"},
            ]
        },
    )
    embed_dataset(owner, gsm_version.dataset, tiny_bert, django_capture_on_commit_callbacks)
    body = api_for(owner).get(url(failed, "?method=embedding&k=50")).json()
    assert body["not_embedded"] == 1
    assert len(body["results"]) == 5 and edited.pk not in {h["example"] for h in body["results"]}


def test_it_offers_the_embedding_ranking_on_the_page(
    embedding_settings, client, owner, failed, gsm_version, tiny_bert,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    client.force_login(owner)
    page = client.get(f"/evals/results/{failed.pk}/nearest/?method=embedding")
    assert page.status_code == 409 and "not embedded" in page.content.decode()
    embed_dataset(owner, gsm_version.dataset, tiny_bert, django_capture_on_commit_callbacks)
    text = client.get(f"/evals/results/{failed.pk}/nearest/?method=embedding").content.decode()
    assert "sentence embeddings" in text and "/edit/" in text
    assert '<a href="?method=ngram">ngram</a>' in text
