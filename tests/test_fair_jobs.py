"""Jobs on the shared ``default`` queue run in turns between teams (finetunedb.leases.job_run_next):
each job sends a token, "run the next job of this kind", and the token runs the oldest job of the
team served least recently. One team's ten imports do not hold up another team's one.
"""

from __future__ import annotations

import threading
from datetime import timedelta

import orjson
import pytest
from celery.app import task as celery_task
from celery.exceptions import TimeLimitExceeded
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connections
from django.utils import timezone
from django.utils.module_loading import import_string

from datasets_app import tasks
from datasets_app.models import DedupJob, Example, ImportJob
from datasets_app.services.dedup import dedup_job_create
from datasets_app.services.imports import IMPORT_JOBS, import_job_create
from finetunedb import leases
from finetunedb.celery import app
from tests.factories import DatasetFactory

TASKS = {"import job": tasks.import_job_run, "dedup job": tasks.dedup_job_run}


@pytest.fixture
def tokens(monkeypatch):
    """The tokens jobs send, kept instead of run so a test delivers them: ``[(kind, pk)]``."""
    sent: list[tuple[str, int]] = []
    for kind in leases.kinds_registered():
        monkeypatch.setattr(kind.enqueue, lambda pk, name=kind.name: sent.append((name, pk)))
    return sent


@pytest.fixture
def queue(django_capture_on_commit_callbacks):
    """Queue an import or a dedup job as the API does: its token is sent once it commits."""

    def queue_job(user, dataset, *, label: str | None = None) -> int:
        with django_capture_on_commit_callbacks(execute=True):
            if label is None:
                return dedup_job_create(user=user, dataset=dataset, method="exact").pk
            return import_job_create(user=user, dataset=dataset, upload=_upload(label)).pk

    return queue_job


def _deliver(sent: list[tuple[str, int]]) -> None:
    """What a worker does: take each token in the order it was sent and run its task."""
    while sent:
        name, pk = sent.pop(0)
        TASKS[name].apply(args=[pk])


def _upload(label: str, rows: int = 2) -> SimpleUploadedFile:
    lines = b"".join(
        orjson.dumps(
            {
                "messages": [
                    {"role": "user", "content": f"{label}: what is {i} times 3?"},
                    {"role": "assistant", "content": f"{i} times 3 is {3 * i}."},
                ]
            }
        )
        + b"\n"
        for i in range(rows)
    )
    return SimpleUploadedFile(f"{label}.jsonl", lines)


def _run_order(model) -> list[int]:
    return list(model.objects.order_by("started_at").values_list("pk", flat=True))


@pytest.fixture
def third(team_with, make_user):
    """A third team's owner and dataset."""
    dora = make_user("dora")
    return dora, DatasetFactory(team=team_with("Charlie", owner=dora), name="third")


def test_it_runs_another_teams_import_second_behind_ten_of_one_team(
    settings, tokens, queue, owner, dataset, outsider, other_dataset
):
    settings.FINETUNEDB_MAX_ACTIVE_IMPORTS_PER_TEAM = 20
    mine = [queue(owner, dataset, label=f"a{i}") for i in range(10)]
    theirs = queue(outsider, other_dataset, label="b")
    assert len(tokens) == 11  # one token per job

    _deliver(tokens)

    assert _run_order(ImportJob) == [mine[0], theirs, *mine[1:]]
    assert set(ImportJob.objects.values_list("status", flat=True)) == {"succeeded"}
    assert Example.objects.filter(dataset=other_dataset).count() == 2
    assert Example.objects.filter(dataset=dataset).count() == 20


def test_it_takes_turns_between_teams_and_keeps_each_teams_order(
    tokens, queue, owner, dataset, outsider, other_dataset, third
):
    a = [queue(owner, dataset) for _ in range(3)]
    b = [queue(outsider, other_dataset) for _ in range(2)]
    c = queue(third[0], third[1])

    _deliver(tokens)

    assert _run_order(DedupJob) == [a[0], b[0], c, a[1], b[1], a[2]]
    assert set(DedupJob.objects.values_list("status", flat=True)) == {"succeeded"}


def test_it_serves_first_the_team_whose_last_job_started_longest_ago(
    tokens, queue, owner, dataset, outsider, other_dataset
):
    earlier = queue(outsider, other_dataset)
    _deliver(tokens)  # the other team was served just now
    DedupJob.objects.filter(pk=earlier).update(started_at=timezone.now())
    theirs = queue(outsider, other_dataset)
    mine = queue(owner, dataset)

    _deliver(tokens)

    assert _run_order(DedupJob)[1:] == [mine, theirs]


def test_it_runs_nothing_twice_when_workers_race_for_tokens(
    transactional_db, tokens, queue, owner, dataset, outsider, other_dataset
):
    jobs = [queue(owner, dataset) for _ in range(6)]
    jobs += [queue(outsider, other_dataset) for _ in range(6)]
    kind = {k.name: k for k in leases.kinds_registered()}["dedup job"]
    ran: list[int] = []
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []
    pending = list(tokens)
    lock = threading.Lock()

    def worker():
        try:
            barrier.wait(timeout=10)
            while True:
                with lock:
                    if not pending:
                        return
                    pending.pop(0)
                pk = leases.job_run_next(kind, run=lambda pk: _claim_and_finish(kind, pk, ran))
                assert pk is not None, "a token found nothing to run while jobs waited"
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    assert sorted(ran) == sorted(jobs)  # every job once, none twice
    assert set(DedupJob.objects.values_list("attempts", flat=True)) == {1}


def _claim_and_finish(kind, pk, ran):
    attempt = leases.lease_claim(kind, pk=pk)
    if attempt is None:
        return
    ran.append(pk)
    leases.lease_finish(kind, pk=pk, attempt=attempt, status="succeeded")


def test_it_recovers_a_job_whose_token_was_lost_or_whose_worker_died(
    tokens, queue, owner, dataset, outsider, other_dataset
):
    lost = queue(owner, dataset, label="lost")
    died = queue(outsider, other_dataset, label="died")
    tokens.clear()  # the broker lost both messages
    assert leases.lease_claim(IMPORT_JOBS, pk=died) == 1  # a worker took it, then was killed
    past = timezone.now() - IMPORT_JOBS.lease - timedelta(minutes=1)
    ImportJob.objects.filter(pk=lost).update(created_at=past)
    ImportJob.objects.filter(pk=died).update(lease_expires_at=past)

    assert leases.jobs_recover()["import job"] == 2
    _deliver(tokens)

    assert dict(ImportJob.objects.values_list("pk", "status")) == {
        lost: "succeeded",
        died: "succeeded",
    }
    assert ImportJob.objects.get(pk=died).attempts == 2
    assert Example.objects.count() == 4


def test_it_fails_the_import_a_killed_token_was_running_not_the_one_that_sent_it(
    tokens, queue, owner, dataset, outsider, other_dataset
):
    sent_it = queue(owner, dataset, label="sender")
    ran = queue(outsider, other_dataset, label="ran")
    leases.lease_claim(IMPORT_JOBS, pk=ran)
    cache.set(tasks.RAN_KEY.format(task_id="t-1"), ran)

    tasks.import_job_run.on_failure(TimeLimitExceeded(1920), "t-1", (sent_it,), {}, None)

    statuses = dict(ImportJob.objects.values_list("pk", "status"))
    assert statuses == {sent_it: "queued", ran: "failed"}
    assert "FINETUNEDB_IMPORT_TIME_LIMIT_S" in ImportJob.objects.get(pk=ran).failure_reason


def test_it_runs_every_job_kind_of_the_default_queue_in_turns(db, monkeypatch):
    """The rule in finetunedb/leases.py: each kind whose task goes to the default queue names
    its team, so job_run_next takes turns between teams for it. (A kind whose enqueue picks its
    queue from the job row sends nothing for a missing row and is not judged here.)"""
    sent: list[str] = []
    monkeypatch.setattr(
        celery_task.Task, "apply_async", lambda self, *a, **k: sent.append(self.name)
    )
    on_default = []
    for kind in leases.kinds_registered():
        sent.clear()
        import_string(kind.enqueue)(0)  # the real enqueue, sending replaced by recording
        if sent and app.amqp.router.route({}, sent[0])["queue"].name == "default":
            on_default.append(kind)
    assert {k.name for k in on_default} >= {"import job", "dedup job"}
    assert [k.name for k in on_default if k.team is None] == []
