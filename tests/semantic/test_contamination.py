"""POST /api/v1/datasets/{id}/contamination/ with ``method: semantic``: pairs of live examples
of two datasets whose stored embeddings (the tiny BERT) are at cosine ≥ the threshold, each
cosine exact; a 409 that says what to embed when one side is not embedded, or embedded with
another model."""

from __future__ import annotations

import numpy as np
import pytest

from datasets_app.services.datasets import dataset_create
from semantic.services import jobs
from semantic.services.embedding_models import embedder_get
from semantic.vectors import cross_pairs

pytestmark = pytest.mark.django_db


def chat(q: str, a: str = "sure") -> list[dict]:
    return [{"role": "user", "content": q}, {"role": "assistant", "content": a}]


@pytest.fixture
def evals(owner, team):
    return dataset_create(user=owner, team=team, name="evals")


@pytest.fixture
def both(owner, dataset, evals, make_example):
    a = [make_example(dataset, owner, messages=chat(q)) for q in ("refund my order", "bake a cake")]
    b = [
        make_example(evals, owner, messages=chat(q))
        for q in ("refund my order", "reset my password", "python code bug")
    ]
    return a, b


def embed(owner, dataset, model, capture):
    with capture(execute=False):
        job = jobs.embedding_job_create(user=owner, dataset=dataset, model=str(model))
    jobs.embedding_job_run(job_id=job.pk)


def check(client, dataset, **body):
    return client.post(f"/api/v1/datasets/{dataset.pk}/contamination/", body, format="json")


def test_it_pairs_examples_by_the_exact_cosine_of_their_embeddings(
    embedding_settings, api_for, owner, dataset, evals, both, tiny_bert_dir,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    for side in (dataset, evals):
        embed(owner, side, tiny_bert_dir, django_capture_on_commit_callbacks)
    response = check(api_for(owner), dataset, against=evals.pk, method="semantic", threshold=0.5)
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["method"] == "semantic" and body["embedding_model"] == str(tiny_bert_dir)

    # every pair at cosine ≥ 0.5, computed here from the model itself
    (a, b) = both
    embedder = embedder_get(str(tiny_bert_dir))
    va = embedder.embed([jobs.example_embedding_text(e.current_revision.messages) for e in a])
    vb = embedder.embed([jobs.example_embedding_text(e.current_revision.messages) for e in b])
    sims = va.astype(np.float32) @ vb.astype(np.float32).T
    expected = {(a[i].pk, b[j].pk) for i, j in zip(*np.nonzero(sims >= 0.5), strict=True)}
    got = {(o["a"], o["b"]): o["similarity"] for o in body["overlaps"]}
    assert set(got) == expected and (a[0].pk, b[0].pk) in got  # the same text is a pair
    assert got[(a[0].pk, b[0].pk)] == pytest.approx(1.0, abs=2e-3)
    assert {o["kind"] for o in body["overlaps"]} == {"semantic"}
    assert body["semantic"] == body["count"] == len(expected) and body["exact"] == 0

    # the default cosine threshold is 0.9
    default = check(api_for(owner), dataset, against=evals.pk, method="semantic").json()
    assert default["threshold"] == 0.9 and all(o["similarity"] >= 0.9 for o in default["overlaps"])


def test_it_says_which_dataset_to_embed_first(
    embedding_settings, api_for, owner, dataset, evals, both, tiny_bert_dir,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    embed(owner, dataset, tiny_bert_dir, django_capture_on_commit_callbacks)
    response = check(api_for(owner), dataset, against=evals.pk, method="semantic")
    assert response.status_code == 409
    assert "'evals' has none" in response.json()["detail"]
    assert f"/api/v1/datasets/{evals.pk}/embeddings/" in response.json()["detail"]
    # the text check still answers, and is the default
    text = check(api_for(owner), dataset, against=evals.pk).json()
    assert text["method"] == "text" and text["exact"] == 1 and text["threshold"] == 0.8


def test_it_refuses_datasets_embedded_with_different_models(
    embedding_settings, api_for, owner, dataset, evals, both, tiny_bert_dir, tmp_path,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    import shutil

    from semantic.services.embedding_models import embedders_forget

    other = shutil.copytree(tiny_bert_dir, tmp_path / "other-bert")
    embedding_settings.FINETUNEDB_EMBEDDING_MODELS = [str(tiny_bert_dir), str(other)]
    embedders_forget()
    embed(owner, dataset, tiny_bert_dir, django_capture_on_commit_callbacks)
    embed(owner, evals, other, django_capture_on_commit_callbacks)
    response = check(api_for(owner), dataset, against=evals.pk, method="semantic")
    assert response.status_code == 409
    assert "do not compare" in response.json()["detail"]


@pytest.mark.parametrize(
    ("body", "path"),
    [({"method": "vectors"}, "method"), ({"method": "semantic", "fields": "prompt"}, "fields")],
)
def test_it_refuses_a_bad_method_or_fields_naming_them(api_for, owner, dataset, evals, body, path):
    response = check(api_for(owner), dataset, against=evals.pk, **body)
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert errors[0]["path"] == path


def test_it_checks_by_meaning_on_the_page(
    embedding_settings, client, owner, dataset, evals, both, tiny_bert_dir,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    for side in (dataset, evals):
        embed(owner, side, tiny_bert_dir, django_capture_on_commit_callbacks)
    client.force_login(owner)
    page = client.get(
        f"/datasets/{dataset.pk}/contamination/?against={evals.pk}&method=semantic&threshold=0.95"
    )
    text = page.content.decode()
    assert page.status_code == 200 and "by meaning" in text and "semantic" in text


def test_it_lists_every_pair_at_the_threshold_across_blocks():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((2100, 8)).astype(np.float32)
    a /= np.linalg.norm(a, axis=1, keepdims=True)
    b = np.vstack([a[[5, 2050]], rng.standard_normal((3, 8))]).astype(np.float32)
    b /= np.linalg.norm(b, axis=1, keepdims=True)
    found = cross_pairs(a.astype(np.float16), b.astype(np.float16), 0.9)
    sims = a.astype(np.float16).astype(np.float32) @ b.astype(np.float16).astype(np.float32).T
    assert {(i, j) for i, j, _ in found} == set(zip(*np.nonzero(sims >= 0.9), strict=True))
    assert (5, 0) in {(i, j) for i, j, _ in found} and (2050, 1) in {(i, j) for i, j, _ in found}


def test_it_refuses_a_threshold_that_pairs_too_much(
    embedding_settings, api_for, owner, dataset, evals, both, tiny_bert_dir, monkeypatch,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    from semantic.services import duplicates

    for side in (dataset, evals):
        embed(owner, side, tiny_bert_dir, django_capture_on_commit_callbacks)
    monkeypatch.setattr(duplicates, "MAX_CONTAMINATION_PAIRS", 0)
    response = check(api_for(owner), dataset, against=evals.pk, method="semantic", threshold=0.5)
    assert response.status_code == 400
    assert response.json()["errors"][0]["path"] == "threshold"
    assert "Raise the threshold" in response.json()["errors"][0]["message"]
