"""Claim-by-update with a lease: the one way a background job makes sure exactly one worker runs it.

Every kind of job — import, dedup, training run, evaluation, playground request — is a
:class:`JobKind`: its model, the names of its status and lease fields, its lease and its retry
cap. A worker takes a job with one conditional UPDATE (:func:`lease_claim`) that matches only a
queued job, or a running one whose lease expired or that never had one (its worker died); from
then on every write it makes goes through :func:`lease_held` / :func:`lease_renew` /
:func:`lease_finish`, filtered on ``(status=running, attempts=<its attempt>)``, so a worker that
lost its lease can no longer change the row. Jobs interrupted ``max_attempts`` times are failed
instead of retried forever. A step that cannot report progress (one ``generate`` call) runs inside
:func:`lease_kept`, which renews the lease from a thread for as long as the process lives.

Recovery: each app registers its kinds (``kind_register`` in its ``AppConfig.ready``);
:func:`jobs_recover` re-enqueues what dead workers left behind, for every registered kind. The
worker's start-up sweep (``finetunedb/celery.py``) and ``manage.py recover_jobs`` call it, so no
app imports another to recover it.

RULE (tests/test_one_lease.py): no module but this one writes a job's lease fields (``attempts``,
``lease_expires_at`` of any registered kind) or sets a status field to running; every job kind is
in the registry and passes the same claim / renew / recover tests.

Fair scheduling (tests/test_fair_jobs.py): a kind that names its ``team`` is run in turns between
teams. Its task is a *token* — "run the next job of this kind", sent once per job — and
:func:`job_run_next` is the only way such a task runs a job: it takes the claimable job of the
team served least recently (the team whose latest ``started_at`` of this kind is oldest, a team
never served first), the oldest of that team's jobs first; not necessarily the job whose enqueue
sent the token. One team's ten imports therefore wait behind another team's one, not the other
way round. Tokens equal jobs, so every job runs; a lost token is a queued job recovery finds.
Every registered kind declares its team: on the ``default`` queue imports, dedup and action jobs;
on the ``training`` queue training runs, evaluations, playground requests and eval runs
(tests/test_fair_jobs.py, tests/training/test_fair_turns.py). Turns are taken within a kind: a
token runs only a job of its own kind, because each kind's task has its own time limit (a
playground token must not start a 30-hour training run); tokens of different kinds are served in
the order they were sent.
"""

from __future__ import annotations

import contextvars
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.db import connection
from django.db.models import F, Model, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)

QUEUED, RUNNING, FAILED = "queued", "running", "failed"
DUPLICATE_KIND = "another job kind is already registered as {name!r}"


@dataclass(frozen=True)
class JobKind:
    """How one kind of job row is claimed, held, renewed and recovered."""

    name: str  # singular, as the recovery report says it: "import job", "training run"
    model: type[Model]
    enqueue: str  # dotted path of ``f(pk)`` that sends the job's task (looked up at each call)
    lease: timedelta
    max_attempts: int
    gave_up: str  # failure text written when the job was interrupted max_attempts times
    status: str = "status"
    queued: str = QUEUED
    running: str = RUNNING
    failed: str = FAILED
    attempts: str = "attempts"
    lease_expires_at: str = "lease_expires_at"
    started_at: str | None = "started_at"
    finished_at: str | None = "finished_at"
    failure: str = "failure_reason"
    created_at: str = "created_at"
    queued_grace: timedelta | None = None  # a queued job older than this was lost; default: lease
    on_give_up: dict[str, Any] = field(default_factory=dict)  # also set when given up
    recover: str | None = None  # dotted path of the app's own hook; default lease_recover(kind)
    # Path from a job to its team's id ("dataset__team_id"): jobs then run in turns between
    # teams (job_run_next). None: first in, first out.
    team: str | None = None

    def _claimable(self, now) -> Q:
        return (
            Q(**{self.status: self.queued})
            | Q(**{self.status: self.running, f"{self.lease_expires_at}__lt": now})
            | Q(**{self.status: self.running, f"{self.lease_expires_at}__isnull": True})
        )

    def _stamp(self, name: str | None, now) -> dict:
        return {name: now} if name else {}


def lease_claim(kind: JobKind, *, pk: int, reset: dict | None = None) -> int | None:
    """Take job ``pk``; returns the attempt number now held, or None when it is not claimable
    (finished, or running under a live lease). ``reset`` fields are set on the claimed row."""
    now = timezone.now()
    claimable = kind._claimable(now)
    rows = kind.model.objects.filter(claimable, pk=pk)
    rows.filter(**{f"{kind.attempts}__gte": kind.max_attempts}).update(
        **{kind.status: kind.failed, kind.failure: kind.gave_up, kind.lease_expires_at: None},
        **kind._stamp(kind.finished_at, now),
        **kind.on_give_up,
    )
    claimed = rows.filter(**{f"{kind.attempts}__lt": kind.max_attempts}).update(
        **{
            kind.status: kind.running,
            kind.attempts: F(kind.attempts) + 1,
            kind.lease_expires_at: now + kind.lease,
        },
        **kind._stamp(kind.started_at, now),
        **(reset or {}),
    )
    if not claimed:
        return None
    seen = _claims_seen.get()
    if seen is not None:
        seen.append((kind.name, pk))
    return kind.model.objects.values_list(kind.attempts, flat=True).get(pk=pk)


def lease_held(kind: JobKind, *, pk: int, attempt: int, alive: bool = False) -> QuerySet:
    """The job row, only while this attempt still holds it: read and write through this.
    ``alive`` also requires the lease not to have run out (checked before publishing)."""
    rows = kind.model.objects.filter(
        **{"pk": pk, kind.status: kind.running, kind.attempts: attempt}
    )
    if alive:
        rows = rows.filter(**{f"{kind.lease_expires_at}__gte": timezone.now()})
    return rows


def lease_renew(kind: JobKind, *, pk: int, attempt: int, **fields: Any) -> bool:
    """Extend this attempt's lease by a whole lease (writing ``fields`` with it); False when the
    lease was lost: the worker must stop without writing anything else."""
    expires = {kind.lease_expires_at: timezone.now() + kind.lease}
    return bool(lease_held(kind, pk=pk, attempt=attempt).update(**expires, **fields))


def lease_finish(kind: JobKind, *, pk: int, attempt: int, status: str, **fields: Any) -> bool:
    """End the job with ``status`` (never running) while this attempt holds it; a finished job
    holds no lease. False when the lease was lost and nothing was written."""
    if status == kind.running:
        raise ValueError("lease_finish ends a job; it cannot set it running")
    values = {kind.status: status, kind.lease_expires_at: None}
    values.update(kind._stamp(kind.finished_at, timezone.now()), **fields)
    return bool(lease_held(kind, pk=pk, attempt=attempt).update(**values))


def lease_stale(kind: JobKind) -> QuerySet:
    """Jobs a dead worker left behind: queued for longer than the grace, or running past their
    lease (or with none)."""
    now = timezone.now()
    grace = kind.queued_grace if kind.queued_grace is not None else kind.lease
    queued = Q(**{kind.status: kind.queued, f"{kind.created_at}__lt": now - grace})
    running = kind._claimable(now) & ~Q(**{kind.status: kind.queued})
    return kind.model.objects.filter(queued | running)


def lease_recover(kind: JobKind) -> int:
    """Re-enqueue every stale job of ``kind``; how many. The claim decides: a job recovered
    twice, or whose worker came back, is still run once."""
    enqueue = import_string(kind.enqueue)
    count = 0
    for pk in lease_stale(kind).values_list("pk", flat=True):
        enqueue(pk)
        count += 1
    return count


@contextmanager
def lease_kept(kind: JobKind, *, pk: int, attempt: int) -> Iterator[threading.Event]:
    """Renew the lease every third of it from a thread while the block runs: for a step that
    cannot report progress. A killed process renews nothing, so its lease runs out and recovery
    takes the job. The event yielded is set if the lease was lost meanwhile."""
    lost, done = threading.Event(), threading.Event()

    def keep() -> None:
        try:
            while not done.wait(kind.lease.total_seconds() / 3):
                if not lease_renew(kind, pk=pk, attempt=attempt):
                    lost.set()
                    return
        except Exception:  # a renewal that fails is a lease that runs out, not a crash
            logger.exception("renewing the lease of %s %s failed", kind.name, pk)
        finally:
            connection.close()  # this thread's own connection

    keeper = threading.Thread(target=keep, name=f"lease-{kind.name}-{pk}", daemon=True)
    keeper.start()
    try:
        yield lost
    finally:
        done.set()
        keeper.join()


# --- fair scheduling: tokens run the next job, in turns between teams ------------------------
# The claims lease_claim made while job_run_next's runner ran: whether the runner won its job.
_claims_seen: contextvars.ContextVar[list | None] = contextvars.ContextVar(
    "claims_seen", default=None
)


def jobs_in_fair_order(kind: JobKind, *, among: Q | None = None) -> QuerySet:
    """The claimable jobs of ``kind`` (those matching ``among``, e.g. the ones a queue serves),
    in the order workers should take them: the team served least recently first (its latest
    claim of this kind is the oldest; never served comes first), oldest job first within a team
    and between teams served equally."""
    claimable = kind.model.objects.filter(kind._claimable(timezone.now()))
    if among is not None:
        claimable = claimable.filter(among)
    if kind.team is None or kind.started_at is None:
        return claimable.order_by(kind.created_at, "pk")
    served = (
        kind.model.objects.filter(
            **{kind.team: OuterRef(kind.team), f"{kind.started_at}__isnull": False}
        )
        .order_by(F(kind.started_at).desc())
        .values(kind.started_at)[:1]
    )
    return claimable.annotate(_served=Subquery(served)).order_by(
        F("_served").asc(nulls_first=True), kind.created_at, "pk"
    )


def job_run_next(
    kind: JobKind, *, run: Callable[[int], object], among: Q | None = None
) -> int | None:
    """Run the first job of :func:`jobs_in_fair_order`; the pk it ran, or None when none waits.

    ``run(pk)`` is the kind's service: it claims ``pk`` with :func:`lease_claim` (a conditional
    UPDATE that matches only a claimable row) and runs it. Choosing is a read, so two workers
    may choose the same job; the claim lets one win, and the other chooses again, so a token is
    never spent while a job waits. A job given up (too many attempts) is skipped the same way.
    """
    tried: set[int] = set()
    while True:
        pk = jobs_in_fair_order(kind, among=among).values_list("pk", flat=True).first()
        if pk is None or pk in tried:  # nothing waits, or its runner would not claim it
            return None
        tried.add(pk)
        claims: list = []
        token = _claims_seen.set(claims)
        try:
            run(pk)
        finally:
            _claims_seen.reset(token)
        if (kind.name, pk) in claims:
            return pk


# --- the recovery registry --------------------------------------------------------------------
_KINDS: dict[str, JobKind] = {}


def kind_register(kind: JobKind) -> JobKind:
    """Add ``kind`` to the recovery registry (from its app's ``AppConfig.ready``); idempotent."""
    known = _KINDS.get(kind.name)
    if known is not None and known != kind:
        raise ValueError(DUPLICATE_KIND.format(name=kind.name))
    _KINDS[kind.name] = kind
    return kind


def kinds_registered() -> list[JobKind]:
    """Every registered kind, in registration order (INSTALLED_APPS order)."""
    return list(_KINDS.values())


def kind_recover(kind: JobKind) -> int:
    """The kind's recovery: its app's hook if it has one, else :func:`lease_recover`."""
    if kind.recover:
        return import_string(kind.recover)()
    return lease_recover(kind)


def jobs_recover(*, names: list[str] | None = None) -> dict[str, int]:
    """Recover every registered kind (or those ``names``): ``{kind name: jobs re-enqueued}``."""
    return {k.name: kind_recover(k) for k in kinds_registered() if names is None or k.name in names}
