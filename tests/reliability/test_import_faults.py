"""Imports under faults, with real worker processes (SECURITY.md §6 F1–F4): a worker killed while
parsing, before publishing or inside the publishing transaction; the task delivered twice at once;
a task enqueued in a transaction that rolls back. After each: the invariants hold."""

from __future__ import annotations

import re
from datetime import timedelta

import orjson
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone

from datasets_app import canonical
from datasets_app.models import Example, ImportJob
from datasets_app.services import imports
from datasets_app.services.imports import jobs as import_jobs

from .invariants import assert_invariants, dataset_state

TASK = "datasets_app.import_job_run"
RECEIVED = r"Task datasets_app\.import_job_run\[[^\]]+\] received"


def _rows(count: int, tag: str = "") -> list[list[dict]]:
    return [
        [
            {"role": "user", "content": f"{tag}What is {i} times 3?"},
            {"role": "assistant", "content": f"{i} times 3 is {3 * i}."},
        ]
        for i in range(count)
    ]


def _upload(rows) -> SimpleUploadedFile:
    body = b"".join(orjson.dumps({"messages": m}) + b"\n" for m in rows)
    return SimpleUploadedFile("rows.jsonl", body)


def _queued_job(owner, dataset, rows, monkeypatch) -> ImportJob:
    """Created as an upload creates it; the test sends the task itself."""
    monkeypatch.setattr(import_jobs, "import_job_enqueue", lambda job_id: None)
    job = imports.import_job_create(user=owner, dataset=dataset, upload=_upload(rows))
    monkeypatch.undo()
    return job


def _states(dataset, rows):
    before = dataset_state(dataset.pk)
    after = tuple(sorted(before + tuple(canonical.content_hash(m) for m in rows)))
    return {dataset.pk: (before, after)}


def _expire_lease(job_id: int) -> None:
    # Stands for the 60 s lease running out, without the test waiting for it.
    ImportJob.objects.filter(pk=job_id).update(
        lease_expires_at=timezone.now() - timedelta(seconds=1)
    )


def _finished(workers, job_id: int):
    staging = workers.data_dir / "staging"
    workers.wait_for(
        lambda: ImportJob.objects.get(pk=job_id).is_finished and not any(staging.glob("*")),
        "the import to finish and its staging file to go",
    )
    return ImportJob.objects.get(pk=job_id)


@pytest.mark.slow
@pytest.mark.timeout(150)
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "fault",
    ["import.after_rows@1500=kill", "import.before_publish=kill", "import.before_commit=kill"],
)
def test_it_imports_all_rows_once_after_a_kill(workers, owner, dataset, monkeypatch, fault):
    rows = _rows(3000)
    states = _states(dataset, rows)
    job = _queued_job(owner, dataset, rows, monkeypatch)
    workers.send(TASK, [job.pk])
    first, _ = workers.start(faults_spec=fault)
    workers.wait_for(
        lambda: b"fault point " + fault.split("@")[0].split("=")[0].encode() in first_log(workers),
        "the fault point",
    )
    workers.wait_exit(first)

    killed = ImportJob.objects.get(pk=job.pk)
    assert (killed.status, killed.attempts, killed.examples_created) == ("running", 1, 0)
    assert Example.objects.count() == 0
    assert dataset_state(dataset.pk) == states[dataset.pk][0]

    _expire_lease(job.pk)
    workers.start()  # recovers the job on start: nobody sends it again
    done = _finished(workers, job.pk)
    assert (done.status, done.attempts, done.examples_created) == ("succeeded", 2, len(rows))
    assert dataset_state(dataset.pk) == states[dataset.pk][1]
    assert_invariants(data_dir=workers.data_dir, states=states)


def first_log(workers) -> bytes:
    return workers.procs[0][1].read_bytes()


@pytest.mark.slow
@pytest.mark.timeout(150)
@pytest.mark.django_db(transaction=True)
def test_it_runs_a_task_delivered_twice_at_once_exactly_once(workers, owner, dataset, monkeypatch):
    rows = _rows(2000)
    states = _states(dataset, rows)
    job = _queued_job(owner, dataset, rows, monkeypatch)
    # The first delivery holds the job for a while before publishing; the second arrives then.
    slow = "import.before_publish=delay:3"
    workers.start(queues="default", faults_spec=slow)
    workers.start(queues="default", faults_spec=slow)
    workers.send(TASK, [job.pk])
    workers.send(TASK, [job.pk])
    done = _finished(workers, job.pk)
    workers.wait_for(
        lambda: sum(log.read_text().count("succeeded in") for _, log in workers.procs) >= 2,
        "both deliveries to be processed",
    )
    assert (done.status, done.attempts, done.examples_created) == ("succeeded", 1, len(rows))
    received = [len(re.findall(RECEIVED, log.read_text())) for _, log in workers.procs]
    assert sum(received) == 2, received
    assert_invariants(data_dir=workers.data_dir, states=states)


@pytest.mark.django_db(transaction=True)
def test_it_never_enqueues_a_job_whose_transaction_rolled_back(
    data_dir, owner, dataset, monkeypatch
):
    from .processes import Workers

    broker = Workers(data_dir, data_dir)
    sent: list[int] = []

    def enqueue(job_id):
        sent.append(job_id)
        broker.send(TASK, [job_id])

    monkeypatch.setattr(import_jobs, "import_job_enqueue", enqueue)
    queue = data_dir / "broker" / "queue"
    with pytest.raises(RuntimeError), transaction.atomic():
        imports.import_job_create(user=owner, dataset=dataset, upload=_upload(_rows(3)))
        raise RuntimeError("the surrounding request failed")
    assert sent == [] and not any(queue.iterdir())
    assert not ImportJob.objects.exists()

    committed = imports.import_job_create(user=owner, dataset=dataset, upload=_upload(_rows(3)))
    assert sent == [committed.pk] and len(list(queue.iterdir())) == 1
    assert_invariants(data_dir=data_dir)
