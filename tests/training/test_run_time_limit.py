"""Issue 14 item 4: a run past its task's soft time limit ends failed with a message naming the
limit, not stuck running for recovery to resume (and be cut off again)."""

import pytest
from celery.exceptions import SoftTimeLimitExceeded

from training.models import RunStatus, TrainingRun
from training.services import execute

pytestmark = pytest.mark.django_db


def test_it_fails_a_run_stopped_by_the_soft_time_limit_with_a_message(
    queued_run, settings, monkeypatch
):
    settings.FINETUNEDB_TASK_TIME_LIMITS_S = {
        **settings.FINETUNEDB_TASK_TIME_LIMITS_S,
        "training": 5400,
    }
    run = queued_run()

    def train_until_the_limit(*args, **kwargs):
        raise SoftTimeLimitExceeded()  # what Celery raises in the task at the soft limit

    monkeypatch.setattr(execute, "_train", train_until_the_limit)
    execute.training_run_execute(run_id=run.pk)

    run = TrainingRun.objects.get(pk=run.pk)
    assert run.status == RunStatus.FAILED
    assert "time limit of 1.5 hours (FINETUNEDB_TRAINING_TIME_LIMIT_S)" in run.failure_reason
    assert "ask an admin to raise the limit" in run.failure_reason
    assert run.finished_at is not None
