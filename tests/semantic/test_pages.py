"""The workspace's search by meaning: the nearest examples with their similarity, a clear note
when the dataset was never embedded, and an Embed button for curators only."""

from __future__ import annotations

import pytest
from django.urls import reverse

from semantic.models import EmbeddingJob
from semantic.services import jobs

pytestmark = pytest.mark.django_db

QUESTIONS = ["how do i get a refund for my order", "bake a cake with flour and sugar"]


@pytest.fixture
def embedded(embedding_served, owner, dataset, make_example, tiny_bert_dir, monkeypatch,
             django_capture_on_commit_callbacks):  # fmt: skip
    rows = [
        make_example(
            dataset,
            owner,
            messages=[{"role": "user", "content": q}, {"role": "assistant", "content": "ok"}],
        )
        for q in QUESTIONS
    ]
    monkeypatch.setattr(jobs, "embedding_job_enqueue", lambda pk: jobs.embedding_job_run(job_id=pk))
    with django_capture_on_commit_callbacks(execute=True):
        jobs.embedding_job_create(user=owner, dataset=dataset, model=str(tiny_bert_dir))
    return rows


def test_it_lists_the_nearest_examples_with_their_similarity(embedded, client, owner, dataset):
    client.force_login(owner)
    page = client.get(reverse("semantic:search", args=[dataset.pk]), {"q": QUESTIONS[1]})
    html = page.content.decode()
    assert page.status_code == 200
    assert "2 nearest examples" in html
    assert html.index(f"#{embedded[1].pk}<") < html.index(f"#{embedded[0].pk}<")


def test_it_says_a_dataset_was_never_embedded(embedding_settings, client, owner, dataset):
    client.force_login(owner)
    html = client.get(reverse("semantic:search", args=[dataset.pk]), {"q": "refund"}).content
    assert b"has no embeddings yet" in html


def test_it_queues_a_job_from_the_button_for_a_curator_only(
    embedding_settings, client, owner, teammate, dataset, monkeypatch
):
    monkeypatch.setattr(jobs, "embedding_job_enqueue", lambda pk: None)
    client.force_login(teammate)  # an annotator
    assert (
        b"Embed new and edited"
        not in client.get(reverse("semantic:search", args=[dataset.pk])).content
    )
    assert client.post(reverse("semantic:embed", args=[dataset.pk])).status_code == 403
    client.force_login(owner)
    response = client.post(reverse("semantic:embed", args=[dataset.pk]), follow=True)
    assert b"queued" in response.content
    assert EmbeddingJob.objects.get().model_name == "all-MiniLM-L6-v2"


def test_it_hides_another_teams_dataset(embedding_settings, client, outsider, dataset):
    client.force_login(outsider)
    assert client.get(reverse("semantic:search", args=[dataset.pk])).status_code == 404
    assert client.post(reverse("semantic:embed", args=[dataset.pk])).status_code == 404
