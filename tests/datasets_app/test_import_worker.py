"""Imports lose nothing when the worker dies (issue 3): a real ``celery worker`` process is
killed with SIGKILL mid-parse and mid-publish; the job is recovered by the next worker and
completes exactly once. Plus: a job interrupted too often is failed, not retried forever.

The worker runs the embedded default's settings (``finetunedb.settings.dev``) against this test's
SQLite file and a per-test DATA_DIR, so uploads, staging and the filesystem broker are shared
with it exactly as in ``make run``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import orjson
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.utils import timezone

from datasets_app import storage
from datasets_app.formats.source import BUFFER_SIZE
from datasets_app.models import Example, ExampleRevision, ImportJob
from datasets_app.services import imports
from datasets_app.services.imports import jobs as import_jobs
from datasets_app.services.imports import run as import_run
from finetunedb import faults

ROOT = Path(__file__).resolve().parents[2]
CELERY = Path(sys.executable).parent / "celery"
WAIT_S = 120  # a 2-core CI machine under load: waits end as soon as their condition holds


class WorkerDied(BaseException):
    """Stands for SIGKILL in-process: escapes the job's ``except Exception``, like a dead worker."""


def _chat_lines(rows: int) -> bytes:
    # Small distinct rows (~110 bytes each): the second worker redoes the whole file quickly.
    return b"".join(
        orjson.dumps(
            {
                "messages": [
                    {"role": "user", "content": f"What is {i} plus {i % 97}?"},
                    {"role": "assistant", "content": f"{i} plus {i % 97} is {i + i % 97}."},
                ]
            }
        )
        + b"\n"
        for i in range(rows)
    )


def _queue_job(owner, dataset, rows: int, monkeypatch) -> ImportJob:
    """Create the job as an upload does, without enqueueing it in this (eager) process."""
    monkeypatch.setattr(import_jobs, "import_job_enqueue", lambda job_id: None)
    upload = SimpleUploadedFile("big.jsonl", _chat_lines(rows))
    job = imports.import_job_create(user=owner, dataset=dataset, upload=upload)
    monkeypatch.undo()
    return job


class SlowUpload:
    """Serves a job's stored upload through a named pipe: one read buffer's worth at once, one more
    once the progress interval has passed, then nothing until released. The worker is caught
    mid-parse with progress on its row however fast the machine is; ``restore`` puts the regular
    file back for the next attempt. (The reader asks for ``BUFFER_SIZE`` bytes at a time and a
    read from a pipe returns only when that much has come, so the pieces are whole buffers.)"""

    def __init__(self, job: ImportJob):
        self.path = storage.path_for(storage.UPLOADS, job.stored_name)
        self.data = self.path.read_bytes()
        self.released = threading.Event()
        self.path.unlink()
        os.mkfifo(self.path)
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        assert len(self.data) > 3 * BUFFER_SIZE
        try:
            with open(self.path, "wb") as pipe:  # opens when the worker opens the upload
                pipe.write(self.data[:BUFFER_SIZE])
                pipe.flush()
                time.sleep(imports.PROGRESS_EVERY_S + 0.2)
                # the first row after the pause reports progress
                pipe.write(self.data[BUFFER_SIZE : 2 * BUFFER_SIZE])
                pipe.flush()
                self.released.wait(WAIT_S)
        except BrokenPipeError:
            pass  # the worker was killed

    def restore(self):
        self.released.set()
        self.thread.join(timeout=5)
        partial = self.path.with_suffix(".part")
        partial.write_bytes(self.data)
        os.replace(partial, self.path)


class Workers:
    """Real worker processes for one test; each in its own process group, all killed on exit."""

    def __init__(self, data_dir: Path, log_dir: Path):
        self.data_dir = data_dir
        self.log_dir = log_dir
        self.procs: list[tuple[subprocess.Popen, Path]] = []
        self.broker = data_dir / "broker"
        for name in ("queue", "processed", "control"):
            (self.broker / name).mkdir(parents=True, exist_ok=True)

    def env(self, **extra) -> dict:
        unset = ("CELERY_BROKER_URL", faults.ENV)  # the filesystem broker; no fault
        env = {k: v for k, v in os.environ.items() if k not in unset}
        env.update(
            DJANGO_SETTINGS_MODULE="finetunedb.settings.dev",
            DATABASE_URL=f"sqlite:///{connection.settings_dict['NAME']}",
            DATA_DIR=str(self.data_dir),
            HF_HUB_OFFLINE="1",
            TRANSFORMERS_OFFLINE="1",
            **extra,
        )
        return env

    def start(self, **extra_env) -> tuple[subprocess.Popen, Path]:
        log = self.log_dir / f"worker-{len(self.procs) + 1}.log"
        with open(log, "wb") as out:
            proc = subprocess.Popen(
                [CELERY, "-A", "finetunedb", "worker", "-Q", "default,training"]
                + ["--concurrency", "1", "--loglevel", "INFO", "-n", f"w{len(self.procs)}@%h"],
                cwd=ROOT,
                env=self.env(**extra_env),
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.procs.append((proc, log))
        return proc, log

    def enqueue(self, job_id: int) -> None:
        """Send the task through the filesystem broker the worker reads, as the web process does."""
        from celery import Celery

        sender = Celery("sender", broker="filesystem://", set_as_current=False)
        folder = str(self.broker / "queue")
        sender.conf.broker_transport_options = {
            "data_folder_in": folder,
            "data_folder_out": folder,
            "processed_folder": str(self.broker / "processed"),
            "control_folder": str(self.broker / "control"),
        }
        try:
            sender.send_task("datasets_app.import_job_run", args=[job_id], queue="default")
        finally:
            sender.close()

    @staticmethod
    def kill(proc: subprocess.Popen) -> None:
        """SIGKILL the worker's whole process group (its pool child too)."""
        if proc.returncode is not None:
            return  # already reaped: its group id may belong to someone else by now
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(timeout=10)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        for proc, _ in self.procs:
            self.kill(proc)

    def logs(self) -> str:
        return "\n".join(f"--- {log.name}\n{log.read_text()[-3000:]}" for _, log in self.procs)


def _wait_for(predicate, what: str, workers: Workers):
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.02)
    pytest.fail(f"timed out waiting for {what}\n{workers.logs()}")


def _job(job_id: int) -> ImportJob:
    return ImportJob.objects.get(pk=job_id)


def _expire_lease(job_id: int) -> None:
    # Stands for the lease running out (60 s) without making the test wait for it.
    ImportJob.objects.filter(pk=job_id).update(
        lease_expires_at=timezone.now() - timedelta(seconds=1)
    )


def _wait_until_done(job_id: int, workers: Workers) -> None:
    # The worker removes its staging file just after the publish commits.
    staging = workers.data_dir / "staging"
    _wait_for(
        lambda: _job(job_id).is_finished and not any(staging.iterdir()),
        "the second worker to finish the job and remove its staging file",
        workers,
    )


def _assert_completed_once(job_id: int, rows: int, data_dir: Path) -> None:
    job = _job(job_id)
    assert job.status == "succeeded", job.failure_reason
    assert job.attempts == 2
    assert job.examples_created == rows
    examples = Example.objects.filter(dataset_id=job.dataset_id)
    assert examples.count() == rows
    assert examples.values("content_hash").distinct().count() == rows
    assert ExampleRevision.objects.filter(example__dataset_id=job.dataset_id).count() == rows
    assert list((data_dir / "staging").iterdir()) == []


@pytest.fixture
def workers(settings, tmp_path):
    settings.DATA_DIR = tmp_path / "data"
    with Workers(settings.DATA_DIR, tmp_path) as running:
        yield running


@pytest.mark.slow
@pytest.mark.timeout(300)
@pytest.mark.django_db(transaction=True)
def test_it_imports_once_after_the_worker_is_killed_while_parsing(
    workers, owner, dataset, monkeypatch
):
    rows = 40_000
    job = _queue_job(owner, dataset, rows, monkeypatch)
    upload = SlowUpload(job)
    try:
        workers.enqueue(job.pk)
        first, _ = workers.start()
        _wait_for(
            lambda: (j := _job(job.pk)).status == "running" and j.bytes_processed > 0,
            "the first worker to report progress",
            workers,
        )
        workers.kill(first)
    finally:
        upload.restore()

    killed = _job(job.pk)
    assert killed.status == "running" and killed.attempts == 1
    assert 0 < killed.bytes_processed < killed.size_bytes
    assert Example.objects.count() == 0

    _expire_lease(job.pk)
    workers.start()  # recovers the job when it is ready: nobody enqueues it again
    _wait_until_done(job.pk, workers)
    _assert_completed_once(job.pk, rows, workers.data_dir)


@pytest.mark.slow
@pytest.mark.timeout(300)
@pytest.mark.django_db(transaction=True)
def test_it_imports_once_after_the_worker_is_killed_before_the_publish_commits(
    workers, owner, dataset, monkeypatch
):
    rows = 20_000
    job = _queue_job(owner, dataset, rows, monkeypatch)
    workers.enqueue(job.pk)
    first, log = workers.start(**{faults.ENV: "import.before_commit=delay:60"})
    _wait_for(
        lambda: b"fault point import.before_commit reached" in log.read_bytes(),
        "the first worker to write every row and pause before committing",
        workers,
    )
    # Every row is written inside the open transaction, yet none is visible.
    assert Example.objects.count() == 0
    workers.kill(first)

    killed = _job(job.pk)
    assert killed.status == "running" and killed.attempts == 1 and killed.examples_created == 0
    assert Example.objects.count() == 0 and ExampleRevision.objects.count() == 0

    _expire_lease(job.pk)
    workers.start()
    _wait_until_done(job.pk, workers)
    _assert_completed_once(job.pk, rows, workers.data_dir)


@pytest.mark.django_db
def test_it_fails_a_job_interrupted_too_often_instead_of_retrying_it_forever(
    owner, dataset, monkeypatch
):
    job = imports.import_job_create(
        user=owner, dataset=dataset, upload=SimpleUploadedFile("a.jsonl", _chat_lines(3))
    )
    enqueued: list[int] = []
    monkeypatch.setattr(import_jobs, "import_job_enqueue", enqueued.append)

    def die(*args, **kwargs):
        raise WorkerDied

    monkeypatch.setattr(import_run, "_publish", die)
    for attempt in range(1, imports.MAX_ATTEMPTS + 1):
        with pytest.raises(WorkerDied):
            imports.import_job_run(job_id=job.pk)
        # A redelivery while the lease is live does nothing, and recovery leaves it alone.
        imports.import_job_run(job_id=job.pk)
        assert imports.import_jobs_recover() == 0
        assert (_job(job.pk).status, _job(job.pk).attempts) == ("running", attempt)
        _expire_lease(job.pk)
        assert imports.import_jobs_recover() == 1 and enqueued[-1] == job.pk

    imports.import_job_run(job_id=job.pk)  # the redelivery after the last interruption
    failed = _job(job.pk)
    assert failed.status == "failed" and failed.attempts == imports.MAX_ATTEMPTS
    assert failed.failure_reason == imports.GAVE_UP.format(attempts=imports.MAX_ATTEMPTS)
    assert "interrupted 3 times" in failed.failure_reason
    assert Example.objects.count() == 0
    assert imports.import_jobs_recover() == 0
    imports.import_job_run(job_id=job.pk)
    assert _job(job.pk).attempts == imports.MAX_ATTEMPTS


@pytest.mark.slow
@pytest.mark.timeout(300)
@pytest.mark.django_db(transaction=True)
def test_it_fails_an_import_past_its_soft_time_limit_in_a_real_worker(
    workers, owner, dataset, monkeypatch
):
    """Issue 14 item 4: the task's soft limit (from FINETUNEDB_IMPORT_TIME_LIMIT_S) reaches the
    job in a real prefork worker; the job ends failed with a message naming the limit."""
    job = _queue_job(owner, dataset, 50, monkeypatch)
    workers.enqueue(job.pk)
    workers.start(
        FINETUNEDB_IMPORT_TIME_LIMIT_S="2", **{faults.ENV: "import.after_rows@10=delay:60"}
    )
    _wait_for(lambda: _job(job.pk).is_finished, "the soft time limit to fail the job", workers)
    failed = _job(job.pk)
    assert failed.status == "failed"
    assert "time limit of 2 seconds (FINETUNEDB_IMPORT_TIME_LIMIT_S)" in failed.failure_reason
    assert "nothing was imported" in failed.failure_reason
    assert Example.objects.count() == 0
    _wait_for(lambda: not any((workers.data_dir / "staging").iterdir()), "no staging", workers)


@pytest.mark.django_db
def test_it_fails_an_import_stopped_by_the_soft_time_limit_with_a_message(
    owner, dataset, monkeypatch
):
    from celery.exceptions import SoftTimeLimitExceeded

    from datasets_app import canonical

    job = _queue_job(owner, dataset, 20, monkeypatch)
    hashed = []
    real_hash = canonical.content_hash

    def slow_hash(*args):
        hashed.append(1)
        if len(hashed) == 5:
            raise SoftTimeLimitExceeded()  # what Celery raises in the task at the soft limit
        return real_hash(*args)

    monkeypatch.setattr(canonical, "content_hash", slow_hash)
    imports.import_job_run(job_id=job.pk)
    failed = _job(job.pk)
    assert failed.status == "failed"
    assert "time limit of 30 minutes (FINETUNEDB_IMPORT_TIME_LIMIT_S)" in failed.failure_reason
    assert "Split the file" in failed.failure_reason
    assert Example.objects.count() == 0
    assert list(storage.folder(storage.STAGING).glob("*.jsonl")) == []


@pytest.mark.django_db
def test_it_fails_an_import_whose_process_the_hard_time_limit_killed(owner, dataset, monkeypatch):
    from celery.exceptions import TimeLimitExceeded

    from datasets_app.tasks import import_job_run

    job = _queue_job(owner, dataset, 3, monkeypatch)
    ImportJob.objects.filter(pk=job.pk).update(status="running", attempts=1)
    staging = storage.path_for(storage.STAGING, job.stored_name, ".jsonl")
    staging.write_bytes(b"half written\n")

    # what the worker's main process calls once it has killed the child at the hard limit
    import_job_run.on_failure(TimeLimitExceeded(1920), "task-id", (job.pk,), {}, None)

    failed = _job(job.pk)
    assert failed.status == "failed" and "FINETUNEDB_IMPORT_TIME_LIMIT_S" in failed.failure_reason
    assert not staging.exists()
    assert imports.import_jobs_recover() == 0  # not retried: it would only be killed again


def test_it_gives_every_task_a_soft_and_a_hard_time_limit(settings):
    from finetunedb.celery import app

    app.loader.import_default_modules()
    ours = [t for name, t in app.tasks.items() if not name.startswith("celery.")]
    assert len(ours) >= 7
    for task in ours:
        soft = task.soft_time_limit or app.conf.task_soft_time_limit
        hard = task.time_limit or app.conf.task_time_limit
        assert soft and hard and soft < hard, task.name
    limits = settings.FINETUNEDB_TASK_TIME_LIMITS_S
    assert app.tasks["datasets_app.import_job_run"].soft_time_limit == limits["import"]
    assert app.tasks["training.training_run_execute"].soft_time_limit == limits["training"]
    assert limits["training"] >= 24 * 3600 > limits["import"]
