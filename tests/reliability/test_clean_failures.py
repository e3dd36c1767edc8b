"""Failures a request or command must survive cleanly (SECURITY.md §6 F9–F11): a full disk while
saving an upload, writing an export or freezing; a database locked by another writer; the broker
down while an upload is accepted. Each: a JSON error with a clear status, nothing half-stored, the
invariants intact."""

from __future__ import annotations

import errno
import sqlite3

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection

from datasets_app.models import DatasetVersion, Example, ImportJob
from datasets_app.services.imports import jobs as import_jobs
from datasets_app.services.versions import dataset_version_freeze
from tests.conftest import CHAT

from .invariants import assert_invariants, dataset_state

ROWS = b'{"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}]}\n'


def _files(folder) -> list:
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def _examples(dataset, owner, make_example, count=6):
    for i in range(count):
        make_example(dataset, owner, [*CHAT[:2], {"role": "assistant", "content": f"answer {i}"}])


@pytest.mark.django_db
def test_it_answers_507_and_stores_nothing_when_the_disk_fills_during_an_upload(
    data_dir, api_for, owner, dataset, fault_plan
):
    fault_plan("upload.save=disk_full")
    response = api_for(owner).post(
        f"/api/v1/datasets/{dataset.pk}/imports/",
        {"file": SimpleUploadedFile("a.jsonl", ROWS)},
        format="multipart",
    )
    assert response.status_code == 507
    assert response.json()["code"] == "insufficient_storage"
    assert not ImportJob.objects.exists()
    assert _files(data_dir / "uploads") == [] and _files(data_dir / "tmp") == []
    assert_invariants(data_dir=data_dir)


@pytest.mark.django_db
def test_it_answers_507_when_the_disk_fills_while_the_upload_streams_in(
    data_dir, api_for, owner, dataset, monkeypatch
):
    from django.core.files.uploadhandler import TemporaryFileUploadHandler

    def full(self, raw_data, start):
        self.file.write(raw_data[: len(raw_data) // 2])
        raise OSError(errno.ENOSPC, "No space left on device")

    # The temporary file's write fails half way, as on a full disk.
    monkeypatch.setattr(TemporaryFileUploadHandler, "receive_data_chunk", full)
    response = api_for(owner).post(
        f"/api/v1/datasets/{dataset.pk}/imports/",
        {"file": SimpleUploadedFile("a.jsonl", ROWS)},
        format="multipart",
    )
    assert response.status_code == 507
    assert response.json()["code"] == "insufficient_storage"
    assert not ImportJob.objects.exists()
    assert_invariants(data_dir=data_dir)


@pytest.mark.django_db
def test_it_leaves_no_half_written_file_when_the_disk_fills_during_an_export_command(
    data_dir, tmp_path, owner, dataset, make_example, fault_plan
):
    _examples(dataset, owner, make_example)
    out = tmp_path / "exports"
    out.mkdir()
    fault_plan("export.mid_write@3=disk_full")
    with pytest.raises(OSError, match="No space left"):
        call_command("export_examples", dataset.pk, "-o", str(out / "d.jsonl"))
    assert list(out.iterdir()) == []

    fault_plan(None)
    call_command("export_examples", dataset.pk, "-o", str(out / "d.jsonl"))
    assert len((out / "d.jsonl").read_bytes().splitlines()) == 6
    assert_invariants(data_dir=data_dir)


@pytest.mark.django_db
def test_it_ends_a_streamed_export_without_leaving_a_file_when_the_disk_fills(
    data_dir, api_for, owner, dataset, make_example, fault_plan
):
    _examples(dataset, owner, make_example)
    before = _files(data_dir)
    fault_plan("export.mid_write@3=disk_full")
    response = api_for(owner).get(f"/api/v1/datasets/{dataset.pk}/export/")
    assert response.status_code == 200 and response.streaming
    with pytest.raises(OSError):
        b"".join(response.streaming_content)  # the server aborts the stream: no complete body
    assert _files(data_dir) == before
    assert_invariants(data_dir=data_dir)


@pytest.mark.django_db
def test_it_keeps_no_version_when_the_disk_fills_before_a_freeze_commits(
    data_dir, api_for, owner, dataset, make_example, fault_plan
):
    _examples(dataset, owner, make_example)
    fault_plan("freeze.before_commit=disk_full")
    response = api_for(owner).post(f"/api/v1/datasets/{dataset.pk}/versions/", {}, format="json")
    assert response.status_code == 507 and response.json()["code"] == "insufficient_storage"
    assert not DatasetVersion.objects.exists()

    fault_plan(None)
    version = dataset_version_freeze(user=owner, dataset=dataset)
    assert version.number == 1
    assert_invariants(data_dir=data_dir)


@pytest.fixture
def short_busy_timeout():
    """SQLite waits this long for another writer before 'database is locked' (20 s in settings)."""
    if connection.vendor != "sqlite":
        pytest.skip("the lock is SQLite's")
    options = connection.settings_dict["OPTIONS"]
    saved = options.get("timeout")
    options["timeout"] = 0.5
    connection.close()
    yield connection.settings_dict["NAME"]
    options["timeout"] = saved
    connection.close()


@pytest.mark.django_db(transaction=True)
def test_it_answers_503_with_retry_after_while_another_writer_holds_the_database(
    short_busy_timeout, data_dir, api_for, owner, dataset
):
    client = api_for(owner)
    url = f"/api/v1/datasets/{dataset.pk}/examples/"
    before = dataset_state(dataset.pk)
    holder = sqlite3.connect(short_busy_timeout, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process's write transaction
    try:
        response = client.post(url, {"messages": CHAT}, format="json")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response.json()["code"] == "database_busy"
    assert dataset_state(dataset.pk) == before

    retried = client.post(url, {"messages": CHAT}, format="json")  # what the client does next
    assert retried.status_code == 201
    assert Example.objects.filter(dataset=dataset).count() == 1
    assert_invariants(data_dir=data_dir)


@pytest.mark.django_db(transaction=True)
def test_it_answers_503_and_keeps_no_job_when_the_broker_is_down_during_an_upload(
    data_dir, api_for, owner, dataset, monkeypatch
):
    from celery import Celery

    # A real Redis client against a port nothing listens on: the broker is down.
    down = Celery("down", broker="redis://127.0.0.1:9/0", set_as_current=False)
    down.conf.broker_connection_timeout = 1
    monkeypatch.setattr(
        import_jobs,
        "import_job_enqueue",
        lambda job_id: down.send_task("datasets_app.import_job_run", args=[job_id], retry=False),
    )
    response = api_for(owner).post(
        f"/api/v1/datasets/{dataset.pk}/imports/",
        {"file": SimpleUploadedFile("a.jsonl", ROWS)},
        format="multipart",
    )
    assert response.status_code == 503, response.content
    assert response["Retry-After"] == "5"
    assert response.json()["code"] == "queue_unavailable"
    assert not ImportJob.objects.exists()
    assert _files(data_dir / "uploads") == []
    assert_invariants(data_dir=data_dir)


def test_it_removes_uploads_orphaned_by_a_rolled_back_transaction(db, settings):
    import os
    import time

    from datasets_app import storage
    from datasets_app.services.imports import import_jobs_recover

    orphan = storage.path_for(storage.UPLOADS, "f" * 32)
    orphan.write_bytes(b"{}\n")
    fresh = storage.path_for(storage.UPLOADS, "e" * 32)
    fresh.write_bytes(b"{}\n")
    old = time.time() - 3600
    os.utime(orphan, (old, old))
    import_jobs_recover()
    assert not orphan.exists()
    assert fresh.exists()  # may still belong to a transaction that has not committed yet
