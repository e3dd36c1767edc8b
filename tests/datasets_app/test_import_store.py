"""Imports with object storage (finetunedb/storage.py) and no folder shared between the web
machine and the import worker: the upload and the error report travel through the store."""

from __future__ import annotations

import orjson
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from datasets_app import storage
from datasets_app.models import Example, ImportJob, ImportStatus
from datasets_app.services import imports
from datasets_app.services.imports import jobs as import_jobs
from datasets_app.services.imports import stored
from finetunedb import storage as object_storage

pytestmark = pytest.mark.django_db

GOOD = orjson.dumps(
    {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}]}
)


def _queue(owner, dataset, body: bytes, monkeypatch, **options) -> ImportJob:
    monkeypatch.setattr(import_jobs, "import_job_enqueue", lambda job_id: None)
    upload = SimpleUploadedFile("chats.jsonl", body)
    job = imports.import_job_create(user=owner, dataset=dataset, upload=upload, **options)
    monkeypatch.undo()
    return job


def _other_machine(job: ImportJob) -> None:
    """What the worker's machine lacks: the web machine's copy of the upload."""
    storage.path_for(storage.UPLOADS, job.stored_name).unlink()


def test_it_imports_an_upload_the_worker_fetches_from_the_store(
    s3_storage, owner, dataset, monkeypatch
):
    client, bucket = s3_storage
    job = _queue(owner, dataset, GOOD + b"\n", monkeypatch)
    key = f"teams/{dataset.team_id}/uploads/{job.stored_name}"
    assert client.get_object(Bucket=bucket, Key=key)["Body"].read() == GOOD + b"\n"
    _other_machine(job)
    imports.import_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == ImportStatus.SUCCEEDED
    assert Example.objects.filter(dataset=dataset).count() == 1


def test_it_serves_the_error_report_the_worker_stored(
    s3_storage, owner, teammate, dataset, monkeypatch, api_for
):
    body = GOOD + b"\n" + b'{"messages": "not a list"}\n'
    job = _queue(owner, dataset, body, monkeypatch, mode="skip_invalid")
    _other_machine(job)
    imports.import_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.has_error_report
    storage.path_for(storage.REPORTS, job.stored_name, ".errors.jsonl").unlink()  # web's disk
    response = api_for(owner).get(f"/api/v1/imports/{job.pk}/errors/")
    assert response.status_code == 200
    lines = [orjson.loads(line) for line in b"".join(response.streaming_content).splitlines()]
    assert [line["line"] for line in lines] == [2]
    assert api_for(teammate).get(f"/api/v1/imports/{job.pk}/errors/").status_code == 200


def test_it_fails_the_job_clearly_when_the_upload_is_gone_from_the_store(
    s3_storage, owner, dataset, monkeypatch
):
    job = _queue(owner, dataset, GOOD + b"\n", monkeypatch)
    _other_machine(job)
    object_storage.file_delete(f"teams/{dataset.team_id}/uploads/{job.stored_name}")
    imports.import_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == ImportStatus.FAILED
    assert job.failure_reason == stored.UPLOAD_GONE
    assert not Example.objects.filter(dataset=dataset).exists()


def test_it_hides_the_report_from_another_team(
    s3_storage, owner, outsider, dataset, monkeypatch, api_for
):
    body = GOOD + b"\n" + b'{"messages": "not a list"}\n'
    job = _queue(owner, dataset, body, monkeypatch, mode="skip_invalid")
    imports.import_job_run(job_id=job.pk)
    assert api_for(outsider).get(f"/api/v1/imports/{job.pk}/errors/").status_code == 404


def test_it_copies_nothing_with_the_local_folder(owner, dataset, monkeypatch, settings):
    job = _queue(owner, dataset, GOOD + b"\n", monkeypatch)
    imports.import_job_run(job_id=job.pk)
    assert not (settings.MEDIA_ROOT / "teams").exists()
