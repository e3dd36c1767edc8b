"""Start, run and report action jobs (DESIGN §4: claimed by a conditional UPDATE, progress on the
row, enqueued on commit).

A page calls :func:`action_job_start` and redirects to the job's status page at once; a worker
runs the registered runner (:func:`action_job_run`). Progress, final status and failure are
written only through ``finetunedb.leases`` by the attempt that holds the job. An *atomic*
action's writes commit in the same transaction as its "succeeded", so a worker killed midway
leaves nothing of it and recovery runs it again, once.
"""

from __future__ import annotations

import errno
import logging
import time
from datetime import timedelta

from celery.exceptions import SoftTimeLimitExceeded
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.db import IntegrityError, transaction
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.module_loading import import_string

from finetunedb.exceptions import DISK_FULL, ApplicationError
from finetunedb.leases import JobKind, job_run_next, lease_claim, lease_finish, lease_renew

from .models import ACTIVE, ActionJob, ActionStatus
from .registry import ActionOutcome, action_get

logger = logging.getLogger(__name__)

# A freeze or split is one uninterruptible transaction: the lease covers a long one.
LEASE = timedelta(minutes=15)
MAX_ATTEMPTS = 3
PROGRESS_EVERY_S = 0.25
KEPT_PER_KEY = 5  # finished jobs kept per key (the last durations, recent results)

GAVE_UP = (
    "This job was interrupted {attempts} times (the worker stopped); it was given up. Try again."
)
CRASHED = "The job failed unexpectedly. The error was logged; try again or ask an admin."
GONE = "What this job worked on no longer exists, or you no longer have access to it."
TOO_LONG = "The job took longer than the worker's limit and was stopped. Nothing was changed."

ACTION_JOBS = JobKind(
    name="action job",
    model=ActionJob,
    enqueue="finetunedb.actions.services.action_job_enqueue",
    lease=LEASE,
    max_attempts=MAX_ATTEMPTS,
    gave_up=GAVE_UP.format(attempts=MAX_ATTEMPTS),
    queued_grace=timedelta(minutes=2),
    team="team_id",  # on the shared default queue: in turns between teams (leases.job_run_next)
)


class LeaseLost(Exception):
    """This attempt no longer holds the job: stop and write nothing (rolls an atomic run back)."""


# --- starting ---------------------------------------------------------------------------------
def action_job_start(
    *, user, team_id: int, action: str, key: str, title: str, params: dict, back_url: str = ""
) -> tuple[ActionJob, bool]:
    """Queue ``action`` on ``key`` unless a job on that key is queued or running already; that
    job is returned instead (a second click joins the first). ``(job, created)``."""
    action_get(action)  # an unregistered action is a programming error, not a user's
    running = ActionJob.objects.filter(key=key, status__in=ACTIVE).first()
    if running is not None:
        return running, False
    # Before the job is queued: once it runs, an atomic action may hold SQLite's write lock.
    _prune(key)
    try:
        with transaction.atomic():
            job = ActionJob.objects.create(
                team_id=team_id,
                created_by=user,
                action=action,
                key=key,
                title=title,
                params=params,
                back_url=back_url,
            )
            transaction.on_commit(lambda: action_job_enqueue(job.pk))
    except IntegrityError:  # another request started it between our read and our insert
        running = ActionJob.objects.filter(key=key, status__in=ACTIVE).first()
        if running is None:
            raise
        return running, False
    return job, True


def _prune(key: str) -> None:
    finished = ActionJob.objects.filter(key=key).exclude(status__in=ACTIVE).order_by("-id")
    old = list(finished.values_list("pk", flat=True)[KEPT_PER_KEY - 1 :])
    if old:
        ActionJob.objects.filter(pk__in=old).delete()


def action_job_enqueue(job_id: int) -> None:
    from .tasks import action_job_run as task

    action = ActionJob.objects.values_list("action", flat=True).filter(pk=job_id).first()
    if action is None:
        return
    task.apply_async(args=[job_id], queue=action_get(action).queue)


# --- running ----------------------------------------------------------------------------------
class Progress:
    """``progress(stage=, done=, total=)``: what the status page shows, written at most every
    PROGRESS_EVERY_S (a new stage at once); renews the lease; LeaseLost when it was lost."""

    def __init__(self, job_id: int, attempt: int):
        self.job_id, self.attempt = job_id, attempt
        self.stage, self.last = None, 0.0

    def __call__(self, *, stage: str | None = None, done: int | None = None, total=None) -> None:
        now = time.monotonic()
        changed = stage is not None and stage != self.stage
        if not changed and now - self.last < PROGRESS_EVERY_S:
            return
        fields = {"stage": stage} if stage is not None else {}
        if done is not None:
            fields["done"] = max(0, int(done))
        if total is not None:
            fields["total"] = max(0, int(total))
        if not lease_renew(ACTION_JOBS, pk=self.job_id, attempt=self.attempt, **fields):
            raise LeaseLost
        self.stage = stage if stage is not None else self.stage
        self.last = now


def action_job_run_next() -> int | None:
    """What a task does: its message is a token that runs the next action job, the oldest of
    the team served least recently (not necessarily the job that sent it)."""
    return job_run_next(ACTION_JOBS, run=lambda pk: action_job_run(job_id=pk))


def action_job_run(*, job_id: int) -> None:
    """Claim the job, run its action, write how it ended. A redelivery of a job that another
    worker holds, or that already ended, does nothing."""
    action = ActionJob.objects.values_list("action", flat=True).filter(pk=job_id).first()
    if action is None:
        return
    kind = action_get(action)
    attempt = lease_claim(
        ACTION_JOBS, pk=job_id, reset={"stage": kind.stage, "done": 0, "total": 0}
    )
    if attempt is None:
        return
    job = ActionJob.objects.select_related("created_by").get(pk=job_id)
    progress = Progress(job_id, attempt)
    try:
        if kind.atomic:
            with transaction.atomic():
                _succeed(job, attempt, _call(kind, job, progress))
        else:
            _succeed(job, attempt, _call(kind, job, progress))
    except LeaseLost:
        logger.info("action job %s: attempt %s lost its lease; it writes nothing", job_id, attempt)
    except ApplicationError as exc:
        _fail(job_id, attempt, exc.message, exc.errors)
    except (ObjectDoesNotExist, Http404, PermissionDenied):
        _fail(job_id, attempt, GONE)
    except SoftTimeLimitExceeded:
        _fail(job_id, attempt, TOO_LONG)
    except OSError as exc:
        if exc.errno != errno.ENOSPC:
            logger.exception("action job %s (%s) crashed", job_id, job.action)
        _fail(job_id, attempt, DISK_FULL if exc.errno == errno.ENOSPC else CRASHED)
    except Exception:
        logger.exception("action job %s (%s) crashed", job_id, job.action)
        _fail(job_id, attempt, CRASHED)


def _call(kind, job: ActionJob, progress: Progress) -> ActionOutcome:
    return import_string(kind.run)(job=job, progress=progress)


def _succeed(job: ActionJob, attempt: int, outcome: ActionOutcome) -> None:
    done = ActionJob.objects.values_list("total", flat=True).get(pk=job.pk)
    if not lease_finish(
        ACTION_JOBS,
        pk=job.pk,
        attempt=attempt,
        status=ActionStatus.SUCCEEDED,
        stage="",
        done=done,
        result=outcome.result,
        result_url=outcome.url,
    ):
        raise LeaseLost  # inside an atomic action this rolls its writes back


def _fail(job_id: int, attempt: int, reason: str, details=None) -> None:
    lease_finish(
        ACTION_JOBS,
        pk=job_id,
        attempt=attempt,
        status=ActionStatus.FAILED,
        stage="",
        failure_reason=reason,
        failure_details=[
            {"path": str(d.get("path", "")), "message": str(d.get("message", ""))}
            for d in details or []
        ],
    )


# --- reporting --------------------------------------------------------------------------------
def _seconds(start, end) -> float | None:
    return round((end - start).total_seconds(), 1) if start and end else None


def action_job_previous_seconds(job: ActionJob) -> float | None:
    """How long the last finished job on the same key ran: what this one will probably take."""
    last = (
        ActionJob.objects.filter(key=job.key, status=ActionStatus.SUCCEEDED)
        .exclude(pk=job.pk)
        .order_by("-finished_at")
        .values_list("started_at", "finished_at")
        .first()
    )
    return _seconds(*last) if last else None


def action_job_status(job: ActionJob) -> dict:
    """What the status endpoint answers and the status page shows."""
    progress = job.progress
    end = job.finished_at or (timezone.now() if job.started_at else None)
    return {
        "id": job.pk,
        "action": job.action,
        "title": job.title,
        "status": job.status,
        "finished": job.is_finished,
        "stage": job.stage,
        "done": job.done,
        "total": job.total,
        "progress": None if progress is None else round(progress, 4),
        "elapsed_s": _seconds(job.started_at, end),
        "previous_s": action_job_previous_seconds(job),
        "result_url": job.result_url if job.status == ActionStatus.SUCCEEDED else "",
        "back_url": job.back_url,
        "failure_reason": job.failure_reason,
        "failure_details": job.failure_details or [],
        "page_url": reverse("actions:job", args=[job.pk]),
        "status_url": reverse("api:action-job-detail", args=[job.pk]),
        "created_at": job.created_at,
        "started_at": job.started_at,
        "finished_at": job.finished_at,
    }
