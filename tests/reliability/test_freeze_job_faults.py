"""A freeze run as a page's job (finetunedb/actions) under a worker killed with -9 inside its
transaction: no half-frozen version is left, and recovery freezes it exactly once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from datasets_app.models import DatasetVersion, VersionEntry
from datasets_app.services import action_jobs
from finetunedb.actions import services as action_services
from finetunedb.actions.models import ActionJob
from tests.datasets_app.versions.conftest import purge_versions

TASK = "finetunedb.actions.action_job_run"


@pytest.fixture
def rows(dataset, owner, make_example):
    for i in range(300):
        make_example(
            dataset,
            owner,
            [
                {"role": "user", "content": f"What is {i} plus {i}?"},
                {"role": "assistant", "content": f"{i} plus {i} is {2 * i}."},
            ],
        )
    yield 300
    purge_versions()


@pytest.mark.slow
@pytest.mark.timeout(150)
@pytest.mark.django_db(transaction=True)
def test_it_freezes_once_after_a_worker_is_killed_before_the_commit(
    workers, owner, dataset, rows, monkeypatch
):
    monkeypatch.setattr(action_services, "action_job_enqueue", lambda job_id: None)
    job, _ = action_jobs.version_freeze_start(user=owner, dataset=dataset, name="v1")
    monkeypatch.undo()
    workers.send(TASK, [job.pk])
    first, _ = workers.start(queues="default", faults_spec="freeze.before_commit=kill")
    workers.wait_exit(first)

    killed = ActionJob.objects.get(pk=job.pk)
    assert (killed.status, killed.attempts, killed.result_url) == ("running", 1, "")
    assert not DatasetVersion.objects.exists() and not VersionEntry.objects.exists()

    # Stands for the lease running out, without the test waiting for it.
    ActionJob.objects.filter(pk=job.pk).update(
        lease_expires_at=timezone.now() - timedelta(seconds=1)
    )
    workers.start(queues="default")  # recovers the job on start: nobody sends it again
    workers.wait_for(
        lambda: ActionJob.objects.get(pk=job.pk).is_finished, "the freeze job to finish"
    )
    done = ActionJob.objects.get(pk=job.pk)
    version = DatasetVersion.objects.get()
    assert (done.status, done.attempts) == ("succeeded", 2), done.failure_reason
    assert done.result_url == f"/versions/{version.pk}/"
    assert (version.number, version.total) == (1, rows)
    assert VersionEntry.objects.filter(version=version).count() == rows
