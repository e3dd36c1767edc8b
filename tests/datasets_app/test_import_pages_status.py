"""The import page sets the examples' starting status (issue 16.6); a failed import speaks the
user's language and retries with one click (16.10c); a table with unknown columns explains
column mapping (16.10d)."""

import io

import pytest

from datasets_app.models import Example, ImportJob

ROWS = b'{"prompt": "2+2?", "completion": "4"}\n{"prompt": "3+3?", "completion": "6"}\n'
BAD = ROWS + b'{"prompt": "5+5?", "completion": 10}\n'


@pytest.fixture
def upload(client, owner, dataset, django_capture_on_commit_callbacks):
    client.force_login(owner)

    def send(data, name="rows.jsonl", **fields):
        handle = io.BytesIO(data)
        handle.name = name
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(f"/datasets/{dataset.pk}/import/", {"file": handle, **fields})

    return send


def test_it_offers_the_starting_status_and_imports_into_needs_review(client, upload, dataset):
    form = upload  # logs in
    page = client.get(f"/datasets/{dataset.pk}/import/").content.decode()
    assert 'name="status"' in page and '<option value="needs_review">Needs review</option>' in page
    assert '<option value="draft" selected>Draft</option>' in page
    response = form(ROWS, status="needs_review")
    job = ImportJob.objects.get()
    assert response.url == f"/imports/{job.pk}/"
    assert "examples start as Needs review" in client.get(response.url).content.decode()
    assert list(Example.objects.values_list("status", flat=True)) == ["needs_review"] * 2


def test_it_refuses_an_unknown_status_on_the_page_and_stores_nothing(upload):
    response = upload(ROWS, status="finished")
    assert response.status_code == 400
    page = response.content.decode()
    assert "status: Unknown status &#x27;finished&#x27;" in page and "needs_review" in page
    assert not ImportJob.objects.exists()


def test_a_failed_import_page_speaks_plainly_and_offers_both_ways_on(client, upload, dataset):
    response = upload(BAD)
    page = client.get(response.url).content.decode()
    assert "Failed" in page and "nothing was imported" in page
    assert "mode=skip_invalid" not in page and "skip_invalid" not in page
    assert "Retry skipping invalid rows" in page
    assert f'href="/datasets/{dataset.pk}/import/">Upload a fixed file</a>' in page


def test_retry_imports_the_same_stored_file_keeping_the_good_rows(
    client, upload, dataset, django_capture_on_commit_callbacks
):
    upload(BAD, status="needs_review")
    failed = ImportJob.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/imports/{failed.pk}/retry/")
    retried = ImportJob.objects.exclude(pk=failed.pk).get()
    assert response.status_code == 302 and response.url == f"/imports/{retried.pk}/"
    assert (retried.mode, retried.status, retried.examples_created) == (
        "skip_invalid",
        "succeeded",
        2,
    )
    assert (
        retried.original_name == failed.original_name and retried.stored_name != failed.stored_name
    )
    assert set(Example.objects.values_list("status", flat=True)) == {"needs_review"}
    page = client.get(response.url).content.decode()
    assert "2 examples created" in page and "Retry skipping" not in page


def test_retry_is_a_post_for_curators_of_the_team_only(client, upload, teammate, outsider, dataset):
    upload(BAD)
    failed = ImportJob.objects.get()
    assert client.get(f"/imports/{failed.pk}/retry/").status_code == 405
    client.force_login(teammate)  # an annotator: may look, not import
    assert (
        "Retry skipping invalid rows" not in client.get(f"/imports/{failed.pk}/").content.decode()
    )
    assert client.post(f"/imports/{failed.pk}/retry/").status_code == 403
    client.force_login(outsider)
    assert client.post(f"/imports/{failed.pk}/retry/").status_code == 404
    assert ImportJob.objects.count() == 1


def test_retry_of_a_succeeded_import_is_refused_with_a_reason(client, upload):
    upload(ROWS)
    job = ImportJob.objects.get()
    response = client.post(f"/imports/{job.pk}/retry/", follow=True)
    assert "Only a failed import can be retried" in response.content.decode()
    assert ImportJob.objects.count() == 1


def test_a_csv_with_unknown_columns_explains_column_mapping(client, upload):
    response = upload(b"query,reply\nhi,hello\n", name="table.csv")
    page = client.get(response.url).content.decode()
    assert "The columns were not recognised (found: query, reply)" in page
    assert "prompt + completion" in page and "column mapping" in page.lower()
    assert (
        "{&quot;prompt&quot;: &quot;query&quot;, &quot;completion&quot;: &quot;reply&quot;}" in page
    )


def test_the_mapping_it_suggests_imports_the_table(client, upload):
    response = upload(
        b"query,reply\nhi,hello\n",
        name="table.csv",
        column_mapping='{"prompt": "query", "completion": "reply"}',
    )
    assert (
        ImportJob.objects.get(pk=int(response.url.strip("/").split("/")[-1])).status == "succeeded"
    )
    assert Example.objects.count() == 1


def test_an_unknown_format_on_the_page_lists_the_valid_names(upload):
    response = upload(ROWS, format="chatml")
    assert response.status_code == 400
    page = response.content.decode()
    assert "Unknown format &#x27;chatml&#x27;; use one of: auto, openai," in page
    assert not ImportJob.objects.exists()
