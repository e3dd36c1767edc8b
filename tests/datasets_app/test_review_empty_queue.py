"""An empty review queue after an import says what to do (issue 16.6)."""

import io

import pytest

from datasets_app.models import Example


@pytest.fixture
def logged_in(client, owner):
    client.force_login(owner)
    return client


def test_an_empty_queue_counts_the_drafts_and_links_both_ways_in(
    logged_in, dataset, owner, make_example
):
    for _ in range(3):
        make_example(dataset, owner)  # drafts, as an import leaves them by default
    page = logged_in.get(f"/datasets/{dataset.pk}/review/").content.decode()
    assert "Nothing needs review: 3 examples are Draft" in page
    assert f'href="/datasets/{dataset.pk}/?status=draft">the list of drafts</a>' in page
    assert "Set status: Needs review" in page
    assert f'href="/datasets/{dataset.pk}/import/">import</a>' in page
    assert "status=needs_review" in page
    assert f'href="/datasets/{dataset.pk}/review/?drafts=1">Review the drafts now</a>' in page


def test_annotators_are_not_sent_to_an_import_they_cannot_start(
    client, teammate, dataset, owner, make_example
):
    make_example(dataset, owner)
    client.force_login(teammate)
    page = client.get(f"/datasets/{dataset.pk}/review/").content.decode()
    assert "Nothing needs review: 1 example is Draft" in page
    assert "/import/" not in page


def test_with_no_drafts_it_just_says_nothing_is_waiting(logged_in, dataset, owner, make_example):
    make_example(dataset, owner, status="approved")
    page = logged_in.get(f"/datasets/{dataset.pk}/review/").content.decode()
    assert "Nothing to review" in page and "Nothing needs review" not in page


def test_an_import_into_needs_review_fills_the_queue(
    logged_in, dataset, django_capture_on_commit_callbacks
):
    upload = io.BytesIO(b'{"prompt": "2+2?", "completion": "4"}\n')
    upload.name = "rows.jsonl"
    with django_capture_on_commit_callbacks(execute=True):
        logged_in.post(
            f"/datasets/{dataset.pk}/import/", {"file": upload, "status": "needs_review"}
        )
    example = Example.objects.get()
    page = logged_in.get(f"/datasets/{dataset.pk}/review/").content.decode()
    counted = logged_in.get(
        f"/datasets/{dataset.pk}/review/", {"count": "1", "example": example.pk}
    ).content.decode()
    assert f"Example {example.pk}" in page and "1 of 1 waiting" in counted
