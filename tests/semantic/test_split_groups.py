"""Splits group semantic duplicate clusters too: a paraphrase pair that the semantic dedup job
clustered (and MinHash did not) lands in one split, and the leakage report finds no pair across
splits; without grouping the same seed separates them."""

from __future__ import annotations

import numpy as np
import pytest

from datasets_app.models import Example
from datasets_app.services.splits import dataset_leakage, dataset_split
from tests.semantic.test_duplicates import plant, run_dedup  # noqa: F401 (a fixture)

pytestmark = pytest.mark.django_db


def chat(text: str) -> list[dict]:
    return [{"role": "user", "content": text}, {"role": "assistant", "content": "ok"}]


@pytest.fixture
def paraphrased(embedding_settings, dataset, owner, make_example, run_dedup):  # noqa: F811
    """40 examples, each even one a paraphrase of the next (cosine ~0.99 by construction)."""
    rows = [
        make_example(dataset, owner, messages=chat(f"question number {i} " * 3)) for i in range(40)
    ]
    rng = np.random.default_rng(1)
    base = rng.standard_normal((20, 32))
    vectors = np.repeat(base, 2, axis=0) + rng.standard_normal((40, 32)) * 0.01
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    plant(dataset, rows, vectors)
    assert run_dedup(owner, dataset, method="near", threshold=0.8).clusters_found == 0
    job = run_dedup(owner, dataset, method="semantic")
    assert job.clusters_found == 20
    return rows


def splits_of(rows) -> list[tuple[str, str]]:
    by_pk = dict(Example.objects.filter(pk__in=[r.pk for r in rows]).values_list("pk", "split"))
    return [(by_pk[rows[i].pk], by_pk[rows[i + 1].pk]) for i in range(0, len(rows), 2)]


RATIOS = {"train": 0.5, "validation": 0.25, "test": 0.25}


def test_it_keeps_semantic_duplicates_in_one_split(paraphrased, owner, dataset):
    result = dataset_split(user=owner, dataset=dataset, ratios=RATIOS, seed=7)
    assert result["grouped"] == 40
    assert all(a == b for a, b in splits_of(paraphrased))
    assert dataset_leakage(dataset=dataset)["pair_count"] == 0


def test_it_separates_them_without_grouping(paraphrased, owner, dataset):
    dataset_split(user=owner, dataset=dataset, ratios=RATIOS, seed=7, group_near_duplicates=False)
    assert any(a != b for a, b in splits_of(paraphrased))
    leakage = dataset_leakage(dataset=dataset)
    straddling = sum(1 for a, b in splits_of(paraphrased) if a != b)
    assert leakage["pair_count"] == straddling > 0
    assert {p["kind"] for p in leakage["pairs"]} == {"semantic"}


@pytest.fixture
def topical(embedding_settings, dataset, owner, make_example):
    """18 embedded examples in 3 topics of 6 (tests/semantic/test_topics.py's blobs)."""
    from tests.semantic.test_topics import blobs

    vectors, texts, _ = blobs(6)
    rows = [make_example(dataset, owner, messages=chat(f"{t} {i}")) for i, t in enumerate(texts)]
    plant(dataset, rows, vectors)
    return rows


def topic_splits(dataset) -> list[set[str]]:
    from semantic.services.topics import topic_groups

    split_of = dict(Example.objects.filter(dataset=dataset).values_list("pk", "split"))
    return [{split_of[pk] for pk in members} for members in topic_groups(dataset)]


def test_it_holds_whole_topics_out_when_asked(topical, owner, dataset, api_for):
    ratios = {"train": 0.6, "test": 0.4}
    for seed in range(4):
        body = api_for(owner).post(
            f"/api/v1/datasets/{dataset.pk}/split/",
            {
                "ratios": ratios,
                "seed": seed,
                "group_topics": True,
                "group_near_duplicates": False,
                "keep_existing": False,
            },
            format="json",
        )
        assert body.status_code == 200, body.json()
        assert body.json()["grouped"] == 18
        assert all(len(splits) == 1 for splits in topic_splits(dataset))
    dataset_split(user=owner, dataset=dataset, ratios=ratios, seed=1, keep_existing=False,
                  group_near_duplicates=False)  # fmt: skip
    assert any(len(splits) > 1 for splits in topic_splits(dataset))  # not asked: mixed


def test_it_says_topic_groups_need_embeddings(
    embedding_settings, owner, dataset, example, api_for, client
):
    body = api_for(owner).post(
        f"/api/v1/datasets/{dataset.pk}/split/",
        {"ratios": {"train": 1.0}, "group_topics": True},
        format="json",
    )
    assert body.status_code == 409 and "embed" in body.json()["detail"].lower()
    client.force_login(owner)
    page = client.post(
        f"/datasets/{dataset.pk}/split/", {"preset": "80/20", "seed": "0", "group_topics": "on"}
    )
    assert page.status_code == 400 and "embed" in page.content.decode().lower()


def test_it_splits_whole_topics_from_the_page(
    topical, owner, dataset, client, django_capture_on_commit_callbacks
):
    client.force_login(owner)
    with django_capture_on_commit_callbacks(execute=True):
        r = client.post(
            f"/datasets/{dataset.pk}/split/",
            {"preset": "80/20", "seed": "3", "group_topics": "on", "group_near_duplicates": "on"},
        )
    assert r.status_code == 302
    assert all(len(splits) == 1 for splits in topic_splits(dataset))
