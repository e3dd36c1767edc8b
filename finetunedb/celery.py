"""The Celery app. Tasks receive an id and call one service (DESIGN §4)."""

import logging.config
import os

from celery import Celery, signals

from .logs import log_context_bind, log_context_reset

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "finetunedb.settings.dev")

app = Celery("finetunedb")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def task_time_limits(kind: str) -> dict:
    """``soft_time_limit`` and ``time_limit`` for a task of ``kind`` (a key of
    FINETUNEDB_TASK_TIME_LIMITS_S). Past the soft limit Celery raises SoftTimeLimitExceeded in
    the task, whose service fails its job with a message; the hard limit, a grace later, kills
    the worker's child process for a task stuck where that exception cannot reach."""
    from django.conf import settings

    soft = int(settings.FINETUNEDB_TASK_TIME_LIMITS_S[kind])
    grace = int(settings.FINETUNEDB_TASK_TIME_LIMIT_GRACE_S)
    return {"soft_time_limit": soft, "time_limit": soft + grace}


@app.task(name="finetunedb.jobs_recover", ignore_result=True)
def jobs_recover(names: list[str] | None = None) -> None:
    """Re-enqueue what dead workers left behind, for every registered job kind (or ``names``)."""
    from .leases import jobs_recover as recover

    recover(names=names)


@signals.worker_ready.connect
def _recover_jobs_on_start(sender=None, **kwargs):
    # One sweep for every app's job kinds (finetunedb.leases registry). Jobs whose lease had not
    # yet run out when this worker started are picked up by a second sweep a lease later, sent
    # to a queue this worker consumes (a GPU worker may serve only ``training``).
    from .leases import jobs_recover as recover
    from .leases import kinds_registered

    recover()
    queues = getattr(getattr(sender, "task_consumer", None), "queues", None) or []
    queue = queues[0].name if queues else None
    by_lease: dict[float, list[str]] = {}
    for kind in kinds_registered():
        by_lease.setdefault(kind.lease.total_seconds(), []).append(kind.name)
    for seconds, names in sorted(by_lease.items()):
        jobs_recover.apply_async(args=[names], countdown=seconds + 5, queue=queue)


@signals.setup_logging.connect
def _use_project_logging(**kwargs):
    # Connected, this stops Celery from replacing the root logger's handlers with its own plain
    # format: the worker writes the same JSON lines (settings.LOGGING) as the web processes.
    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)


# task id -> context token; prerun and postrun run in the same thread, eager tasks included.
_task_tokens = {}


@signals.task_prerun.connect
def _bind_task_to_logs(task_id=None, task=None, **kwargs):
    _task_tokens[task_id] = log_context_bind(task_id=task_id, task_name=getattr(task, "name", None))


@signals.task_postrun.connect
def _unbind_task_from_logs(task_id=None, **kwargs):
    token = _task_tokens.pop(task_id, None)
    if token is not None:
        try:
            log_context_reset(token)
        except ValueError:  # bound in another context (a pool that switched it); nothing to undo
            pass
