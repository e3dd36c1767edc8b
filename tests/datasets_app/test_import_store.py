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


def _upload_here(job: ImportJob):
    return storage.path_for(storage.UPLOADS, job.stored_name)


def _report_here(job: ImportJob):
    return storage.path_for(storage.REPORTS, job.stored_name, ".errors.jsonl")


def _other_machine(job: ImportJob) -> None:
    """What the worker's machine lacks: the web machine's copy of the upload, which the web
    dropped itself once the job row was recorded (the store has it)."""
    assert not _upload_here(job).exists()


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
    assert not _report_here(job).exists()  # the worker dropped its copy; the web's disk has none
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


MIXED = GOOD + b"\n" + b'{"messages": "not a list"}\n'


def _store_holds(client, bucket, key: str) -> bytes:
    return client.get_object(Bucket=bucket, Key=key)["Body"].read()


def test_it_keeps_no_local_copy_once_the_import_is_over(s3_storage, owner, dataset, monkeypatch):
    client, bucket = s3_storage
    done = _queue(owner, dataset, MIXED, monkeypatch, mode="skip_invalid")
    failed = _queue(owner, dataset, MIXED, monkeypatch, mode="strict")
    for job in (done, failed):
        imports.import_job_run(job_id=job.pk)
        job.refresh_from_db()
        assert not _upload_here(job).exists() and not _report_here(job).exists()
        key = f"teams/{dataset.team_id}/uploads/{job.stored_name}"
        assert _store_holds(client, bucket, key) == MIXED
    assert done.status == ImportStatus.SUCCEEDED and failed.status == ImportStatus.FAILED

    # The failed one's retry fetches the upload from the store for its copy, then drops it.
    monkeypatch.setattr(import_jobs, "import_job_enqueue", lambda job_id: None)
    retry = imports.import_job_retry(user=owner, job=failed)
    assert not _upload_here(failed).exists() and not _upload_here(retry).exists()
    imports.import_job_run(job_id=retry.pk)
    retry.refresh_from_db()
    assert retry.status == ImportStatus.SUCCEEDED and retry.rows_valid == 1


def test_it_keeps_the_only_copy_with_the_local_folder(owner, dataset, monkeypatch):
    done = _queue(owner, dataset, MIXED, monkeypatch, mode="skip_invalid")
    failed = _queue(owner, dataset, MIXED, monkeypatch, mode="strict")
    for job in (done, failed):
        imports.import_job_run(job_id=job.pk)
        job.refresh_from_db()
        assert _upload_here(job).read_bytes() == MIXED
    assert failed.status == ImportStatus.FAILED and _report_here(done).is_file()
    monkeypatch.setattr(import_jobs, "import_job_enqueue", lambda job_id: None)
    imports.import_job_retry(user=owner, job=failed)
    assert _upload_here(failed).read_bytes() == MIXED


def test_it_drops_a_finished_imports_leftover_copy_when_a_worker_recovers(
    s3_storage, owner, dataset, monkeypatch
):
    import os
    import time

    from datasets_app.services.imports import recover

    finished = _queue(owner, dataset, GOOD + b"\n", monkeypatch)
    queued = _queue(owner, dataset, GOOD + b"\n", monkeypatch)
    imports.import_job_run(job_id=finished.pk)
    old = time.time() - 86400
    for job in (finished, queued):  # copies a process left behind (stopped before dropping them)
        _upload_here(job).write_bytes(GOOD + b"\n")
        os.utime(_upload_here(job), (old, old))
    recover._sweep_staging()
    assert not _upload_here(finished).exists()
    assert _upload_here(queued).exists()  # its worker may still read it


def test_it_counts_a_teams_storage_the_same_with_and_without_object_storage(
    request, owner, outsider, dataset, other_dataset, monkeypatch, api_for
):
    from finetunedb.teams.quota import team_storage_usage

    local_job = _queue(outsider, other_dataset, MIXED, monkeypatch, mode="skip_invalid")
    imports.import_job_run(job_id=local_job.pk)
    local = team_storage_usage(team_id=other_dataset.team_id)

    client, bucket = request.getfixturevalue("s3_storage")
    job = _queue(owner, dataset, MIXED, monkeypatch, mode="skip_invalid")
    imports.import_job_run(job_id=job.pk)
    report_key = f"teams/{dataset.team_id}/reports/{job.stored_name}.errors.jsonl"
    stored_report = _store_holds(client, bucket, report_key)
    assert not _report_here(job).exists() and not _upload_here(job).exists()

    usage = team_storage_usage(team_id=dataset.team_id)
    assert usage.reports == len(stored_report) == _report_here(local_job).stat().st_size
    assert usage.uploads == len(MIXED)
    assert usage.as_dict() == local.as_dict()
    # The web fetches the report to serve it; its copy is not counted a second time.
    response = api_for(owner).get(f"/api/v1/imports/{job.pk}/errors/")
    assert b"".join(response.streaming_content) == stored_report
    assert team_storage_usage(team_id=dataset.team_id).as_dict() == local.as_dict()
