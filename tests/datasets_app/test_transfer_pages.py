import io
import json

from django.core.management import call_command
from django.core.management.base import CommandError

from datasets_app.models import Example, ImportJob

ROWS = b'{"prompt": "2+2?", "completion": "4"}\n{"prompt": "3+3?", "completion": "6"}\n'


def test_it_uploads_from_the_browser_and_follows_the_job(
    client, owner, dataset, django_capture_on_commit_callbacks
):
    client.force_login(owner)
    page = client.get(f"/datasets/{dataset.pk}/import/").content.decode()
    assert 'type="file"' in page and "Detect automatically" in page
    upload = io.BytesIO(ROWS)
    upload.name = "pc.jsonl"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/datasets/{dataset.pk}/import/", {"file": upload, "format": "auto", "mode": "strict"}
        )
    job = ImportJob.objects.get()
    assert response.url == f"/imports/{job.pk}/"
    page = client.get(response.url).content.decode()
    assert "Succeeded" in page and "2 examples created" in page
    assert Example.objects.filter(dataset=dataset, source_format="prompt_completion").count() == 2


def test_it_shows_line_errors_on_the_result_page(
    client, owner, dataset, django_capture_on_commit_callbacks
):
    client.force_login(owner)
    upload = io.BytesIO(ROWS + b'{"prompt": "<img src=x onerror=alert(1)>", "completion": 5}\n')
    upload.name = "bad.jsonl"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/datasets/{dataset.pk}/import/", {"file": upload})
    page = client.get(response.url).content.decode()
    assert "Failed" in page and "nothing was imported" in page
    assert "<img src=x" not in page
    assert "Download the full error report" in page
    assert Example.objects.count() == 0


def test_it_answers_413_in_the_browser_for_a_too_large_upload(client, owner, dataset, settings):
    settings.FINETUNEDB_MAX_UPLOAD_BYTES = 10
    client.force_login(owner)
    upload = io.BytesIO(ROWS * 100)
    upload.name = "big.jsonl"
    response = client.post(f"/datasets/{dataset.pk}/import/", {"file": upload})
    assert response.status_code == 413
    assert not ImportJob.objects.exists()


def test_it_hides_import_pages_from_annotators(client, teammate, dataset):
    client.force_login(teammate)
    assert client.get(f"/datasets/{dataset.pk}/import/").status_code == 403
    assert client.get(f"/datasets/{dataset.pk}/export/").status_code == 403


def test_it_offers_an_export_form_that_targets_the_api(client, owner, dataset):
    client.force_login(owner)
    page = client.get(f"/datasets/{dataset.pk}/export/").content.decode()
    assert f'action="/api/v1/datasets/{dataset.pk}/export/"' in page
    assert 'value="parquet"' in page


def test_it_imports_and_exports_from_the_command_line(dataset, owner, tmp_path, capsys):
    source = tmp_path / "in.jsonl"
    source.write_bytes(ROWS)
    call_command("import_examples", str(dataset.pk), str(source))
    assert Example.objects.filter(dataset=dataset).count() == 2
    target = tmp_path / "out.jsonl"
    call_command("export_examples", str(dataset.pk), "-o", str(target))
    lines = [json.loads(line) for line in target.read_text().splitlines()]
    assert [m["content"] for m in lines[0]["messages"]] == ["2+2?", "4"]
    assert not list(tmp_path.glob(".*part"))


def test_it_fails_the_command_on_a_bad_file(dataset, owner, tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_bytes(b"nope\n")
    try:
        call_command("import_examples", str(dataset.pk), str(source))
    except CommandError as exc:
        assert "nothing was imported" in str(exc)
    else:
        raise AssertionError("expected a CommandError")
    assert Example.objects.count() == 0
