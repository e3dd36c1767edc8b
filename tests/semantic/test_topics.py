"""Topic clusters: k chosen by silhouette, labels by c-TF-IDF, share per split; the API, the page
with its SVG map, and the example list filtered by topic."""

from __future__ import annotations

import numpy as np
import pytest
from django.urls import reverse

from semantic.topics import c_tf_idf_labels, topic_map
from tests.semantic.test_duplicates import plant

THEMES = {
    "refund": "refund my order money back",
    "password": "reset password login account",
    "weather": "weather rain sunny tomorrow",
}


def blobs(n_per: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((len(THEMES), 24)) * 3
    vectors, texts, splits = [], [], []
    for c, words in enumerate(THEMES.values()):
        for i in range(n_per):
            vectors.append(centres[c] + rng.standard_normal(24) * 0.3)
            texts.append(f"please {words} thanks")
            splits.append("train" if i % 4 else "test")
    vectors = np.array(vectors)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True), texts, splits


def test_it_chooses_k_and_labels_each_topic_by_its_own_words():
    vectors, texts, splits = blobs(20)
    result = topic_map(vectors, texts, splits)
    assert result.k == 3 and result.silhouette > 0.5
    labels = sorted(t.words[0] for t in result.topics)
    assert all("please" not in t.words for t in result.topics)  # in every topic: not distinctive
    assert {w for t in result.topics for w in t.words} & {"refund", "password", "weather"}
    assert len(labels) == 3
    for split in ("train", "test"):
        assert sum(t.share_by_split[split] for t in result.topics) == pytest.approx(1.0)
    assert sum(t.size for t in result.topics) == 60
    assert len(result.points) == 60


def test_it_takes_a_given_k():
    vectors, texts, splits = blobs(10)
    assert topic_map(vectors, texts, splits, k=5).k == 5


def test_it_labels_by_distinctive_words_not_common_ones():
    labels = c_tf_idf_labels(
        ["alpha shared", "alpha shared", "beta shared"], np.array([0, 0, 1]), 2
    )
    assert labels[0][0] == "alpha" and labels[1][0] == "beta"


@pytest.fixture
def planted(embedding_settings, dataset, owner, make_example):
    vectors, texts, splits = blobs(6)
    rows = [
        make_example(
            dataset,
            owner,
            messages=[{"role": "user", "content": t}, {"role": "assistant", "content": "ok"}],
        )
        for t in texts
    ]
    plant(dataset, rows, vectors)
    return rows


@pytest.mark.django_db
def test_it_serves_topics_and_filters_the_list_by_one(planted, api_for, owner, dataset):
    api = api_for(owner)
    response = api.get(f"/api/v1/datasets/{dataset.pk}/topics/")
    assert response.status_code == 200
    body = response.json()
    assert body["k"] == 3 and "members" not in body
    first = body["topics"][0]
    listed = api.get(f"/api/v1/datasets/{dataset.pk}/examples/", {"topic": first["topic"]})
    ids = sorted(row["id"] for row in listed.json()["results"])
    assert len(ids) == first["size"] == 6
    assert set(first["examples"]) <= set(ids)
    assert api.get(f"/api/v1/datasets/{dataset.pk}/topics/", {"k": "1"}).status_code == 400


@pytest.mark.django_db
def test_it_says_topics_need_embeddings(embedding_settings, api_for, owner, dataset):
    response = api_for(owner).get(f"/api/v1/datasets/{dataset.pk}/topics/")
    assert response.status_code == 409


@pytest.mark.django_db
def test_it_draws_the_topic_list_and_map(planted, client, owner, outsider, dataset):
    client.force_login(owner)
    page = client.get(reverse("semantic:topics", args=[dataset.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert "3 topics" in html and html.count("<circle") == 18
    assert "?topic=" in html
    listed = client.get(reverse("datasets:detail", args=[dataset.pk]), {"topic": "0"})
    assert listed.status_code == 200 and listed.content.count(b'href="/examples/') >= 6
    client.force_login(outsider)
    assert client.get(reverse("semantic:topics", args=[dataset.pk])).status_code == 404
