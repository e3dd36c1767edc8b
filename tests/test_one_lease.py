"""One job-claiming mechanism (finetunedb/leases.py), proven two ways, as test_url_scoping.py
proves scoping:

* the source tree is walked and any module but finetunedb/leases.py that writes a job's lease
  fields (``attempts``, ``lease_expires_at`` of any registered kind) or sets a status to running
  fails the build — a new job kind cannot grow its own claim;
* every kind in the recovery registry (import, dedup, training run, evaluation, playground
  request, and whatever registers next) passes the same tests: claimed once, renews, recovered
  after its lease expires, left alone while it is alive, given up after too many attempts.
"""

from __future__ import annotations

import ast
import dataclasses
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from django.apps import apps
from django.utils import timezone

from finetunedb import leases
from tests.training.conftest import make_version, version  # noqa: F401

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ("finetunedb", "datasets_app", "training", "semantic")
THE_LEASE_MODULE = ROOT / "finetunedb" / "leases.py"
EXPECTED_KINDS = {
    "import job",
    "dedup job",
    "training run",
    "evaluation",
    "playground request",
    "action job",
    "embedding job",
}
WRITES = {"update", "create", "update_or_create", "get_or_create", "bulk_create"}
# Calls that name lease fields without touching a row: a kind's declaration, a message's text.
DECLARATIONS = {"JobKind", "format"}


# --- the rule: only finetunedb/leases.py claims -----------------------------------------------
def _lease_fields() -> tuple[set[str], set[str], set[str]]:
    kinds = leases.kinds_registered()
    fields = {k.attempts for k in kinds} | {k.lease_expires_at for k in kinds}
    return fields, {k.status for k in kinds}, {str(k.running) for k in kinds}


def _callee(call: ast.Call) -> str | None:
    return getattr(call.func, "attr", None) or getattr(call.func, "id", None)


def _is_running(node: ast.AST, running: set[str]) -> bool:
    if isinstance(node, ast.Constant):
        return node.value in running
    if isinstance(node, ast.Attribute):
        return node.attr == "RUNNING"
    return False


def claim_violations(source: str, *, fields, statuses, running) -> list[str]:
    """Lines of ``source`` that write a lease field or set a status running, outside leases.py."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and _callee(node) not in DECLARATIONS:
            # A lease field as a keyword anywhere (an update, a filter on the ticket, a dict of
            # values built for one); a running status in a write.
            writes = getattr(node.func, "attr", None) in WRITES
            for kw in node.keywords:
                if kw.arg in fields or (
                    writes and kw.arg in statuses and _is_running(kw.value, running)
                ):
                    found.append(f"line {node.lineno}: {kw.arg}=")
                if kw.arg is None and isinstance(kw.value, ast.Dict):
                    names = {k.value for k in kw.value.keys if isinstance(k, ast.Constant)}
                    found += [f"line {node.lineno}: **{{{n!r}}}" for n in names & fields]
        targets = node.targets if isinstance(node, ast.Assign) else []
        for target in targets:
            if isinstance(target, ast.Attribute) and (
                target.attr in fields
                or (target.attr in statuses and _is_running(node.value, running))
            ):
                found.append(f"line {node.lineno}: .{target.attr} =")
    return found


def test_it_allows_no_claim_outside_the_lease_module(db):
    fields, statuses, running = _lease_fields()
    problems = []
    for folder in SOURCES:
        for path in sorted((ROOT / folder).rglob("*.py")):
            if path == THE_LEASE_MODULE or "migrations" in path.parts:
                continue
            for line in claim_violations(
                path.read_text(encoding="utf-8"), fields=fields, statuses=statuses, running=running
            ):
                problems.append(f"{path.relative_to(ROOT)} {line}")
    assert not problems, "claim or lease write outside finetunedb/leases.py:\n" + "\n".join(
        problems
    )


@pytest.mark.parametrize(
    ("source", "flagged"),
    [
        ("Run.objects.filter(pk=1, status='queued').update(status=RunStatus.RUNNING)", True),
        ("Run.objects.filter(pk=1).update(status='running')", True),
        ("rows.update(lease_expires_at=now + LEASE, step=3)", True),
        ("rows.update(attempts=F('attempts') + 1)", True),
        ("values = dict(heartbeat_at=now, lease_expires_at=now + LEASE)", True),
        ("Run.objects.filter(pk=1, status='running', attempts=attempt)", True),
        ("rows.update(**{'eval_lease_expires_at': None})", True),
        ("run.status = RunStatus.RUNNING", True),
        ("Request.objects.create(model=m, status=PlaygroundStatus.RUNNING)", True),
        ("Run.objects.filter(status=RunStatus.RUNNING).update(cancel_requested=True)", False),
        ("rows.update(status=RunStatus.FAILED, failure_reason=reason)", False),
        ("queryset.filter(lease_expires_at__lt=now)", False),
        ("GAVE_UP.format(attempts=MAX_ATTEMPTS)", False),
        ("JobKind(name='x', attempts='eval_attempts', lease_expires_at='eval_lease')", False),
    ],
)
def test_it_recognises_a_claim_written_by_hand(db, source, flagged):
    fields, statuses, running = _lease_fields()
    found = claim_violations(source, fields=fields, statuses=statuses, running=running)
    assert bool(found) is flagged, found


def test_it_registers_every_model_that_holds_a_lease(db):
    registered = {(k.model, k.lease_expires_at) for k in leases.kinds_registered()}
    assert EXPECTED_KINDS <= {k.name for k in leases.kinds_registered()}
    leased = {
        (model, f.name)
        for model in apps.get_models()
        for f in model._meta.get_fields()
        if f.name.endswith("lease_expires_at")
    }
    assert leased == registered


# --- the same tests for every registered kind --------------------------------------------------
@pytest.fixture
def make_job(owner, dataset, version):  # noqa: F811
    from datasets_app.models import DedupJob, ImportJob
    from finetunedb.actions.models import ActionJob
    from semantic.models import EmbeddingJob
    from training.models import ModelArtifact, PlaygroundRequest, TrainingRun

    def run():
        return TrainingRun.objects.create(
            version=version,
            dataset_version_hash=version.content_hash,
            base_model="tiny",
            config={},
        )

    def model():
        return ModelArtifact.objects.create(run=run(), path="runs/x/model", weights_sha256="0")

    factories = {
        "import job": lambda: ImportJob.objects.create(
            dataset=dataset, created_by=owner, stored_name=uuid.uuid4().hex
        ),
        "dedup job": lambda: DedupJob.objects.create(
            dataset=dataset, created_by=owner, method="exact"
        ),
        "training run": run,
        "evaluation": model,
        "playground request": lambda: PlaygroundRequest.objects.create(
            model=model(), messages=[{"role": "user", "content": "hi"}]
        ),
        "embedding job": lambda: EmbeddingJob.objects.create(
            dataset=dataset, created_by=owner, model_name="all-MiniLM-L6-v2"
        ),
        "action job": lambda: ActionJob.objects.create(
            team=dataset.team, created_by=owner, action="split", key=uuid.uuid4().hex, title="t"
        ),
    }

    def make(kind: leases.JobKind):
        return factories[kind.name]().pk

    return make


@pytest.fixture
def enqueued(monkeypatch):
    """Every kind's enqueue, recorded instead of sent: ``{kind name: [pk, …]}``."""
    sent: dict[str, list[int]] = {}
    for kind in leases.kinds_registered():
        monkeypatch.setattr(kind.enqueue, sent.setdefault(kind.name, []).append)
    return sent


def _row(kind: leases.JobKind, pk: int) -> dict:
    return kind.model.objects.values(kind.status, kind.attempts, kind.lease_expires_at).get(pk=pk)


def _expire(kind: leases.JobKind, pk: int) -> None:
    past = timezone.now() - timedelta(seconds=1)
    kind.model.objects.filter(pk=pk).update(**{kind.lease_expires_at: past})


def kind_ids():
    return sorted(EXPECTED_KINDS)


@pytest.fixture(params=kind_ids())
def kind(request, db):
    return {k.name: k for k in leases.kinds_registered()}[request.param]


def test_it_claims_a_job_once(kind, make_job):
    pk = make_job(kind)
    assert leases.lease_claim(kind, pk=pk) == 1
    assert leases.lease_claim(kind, pk=pk) is None  # the redelivery
    row = _row(kind, pk)
    assert (row[kind.status], row[kind.attempts]) == (kind.running, 1)
    assert row[kind.lease_expires_at] > timezone.now()


def test_it_renews_the_lease_only_for_the_attempt_that_holds_it(kind, make_job):
    pk = make_job(kind)
    attempt = leases.lease_claim(kind, pk=pk)
    soon = timezone.now() + timedelta(seconds=1)
    kind.model.objects.filter(pk=pk).update(**{kind.lease_expires_at: soon})
    assert leases.lease_renew(kind, pk=pk, attempt=attempt)
    assert _row(kind, pk)[kind.lease_expires_at] > timezone.now() + kind.lease / 2
    assert not leases.lease_renew(kind, pk=pk, attempt=attempt + 1)


def test_it_recovers_a_job_after_its_lease_expires(kind, make_job, enqueued):
    pk = make_job(kind)
    first = leases.lease_claim(kind, pk=pk)
    _expire(kind, pk)
    counts = leases.jobs_recover()
    assert enqueued[kind.name] == [pk] and counts[kind.name] == 1
    assert leases.lease_claim(kind, pk=pk) == first + 1
    # The worker that lost it can write nothing any more.
    assert not leases.lease_renew(kind, pk=pk, attempt=first)
    assert not leases.lease_finish(kind, pk=pk, attempt=first, status=kind.failed)
    assert _row(kind, pk)[kind.status] == kind.running


def test_it_does_not_recover_a_job_while_its_lease_is_alive(kind, make_job, enqueued):
    pk = make_job(kind)
    leases.lease_claim(kind, pk=pk)
    assert leases.jobs_recover()[kind.name] == 0 and enqueued[kind.name] == []
    assert leases.lease_claim(kind, pk=pk) is None


def test_it_recovers_a_running_job_that_has_no_lease(kind, make_job, enqueued):
    pk = make_job(kind)
    leases.lease_claim(kind, pk=pk)
    kind.model.objects.filter(pk=pk).update(**{kind.lease_expires_at: None})
    assert leases.jobs_recover()[kind.name] == 1 and enqueued[kind.name] == [pk]


def test_it_recovers_a_queued_job_whose_message_was_lost(kind, make_job, enqueued):
    pk = make_job(kind)
    assert leases.jobs_recover()[kind.name] == 0  # just queued: its message is on its way
    old = timezone.now() - kind.lease - timedelta(minutes=3)
    kind.model.objects.filter(pk=pk).update(**{kind.created_at: old})
    assert leases.jobs_recover()[kind.name] == 1 and enqueued[kind.name] == [pk]


def test_it_gives_up_after_too_many_interruptions(kind, make_job):
    pk = make_job(kind)
    kind.model.objects.filter(pk=pk).update(
        **{kind.status: kind.running, kind.attempts: kind.max_attempts}
    )
    _expire(kind, pk)
    assert leases.lease_claim(kind, pk=pk) is None
    row = kind.model.objects.values(kind.status, kind.failure).get(pk=pk)
    assert row == {kind.status: kind.failed, kind.failure: kind.gave_up}


def test_it_finishes_a_job_and_releases_its_lease(kind, make_job, enqueued):
    pk = make_job(kind)
    attempt = leases.lease_claim(kind, pk=pk)
    assert leases.lease_finish(kind, pk=pk, attempt=attempt, status=kind.failed)
    row = _row(kind, pk)
    assert (row[kind.status], row[kind.lease_expires_at]) == (kind.failed, None)
    assert leases.jobs_recover()[kind.name] == 0
    with pytest.raises(ValueError):
        leases.lease_finish(kind, pk=pk, attempt=attempt, status=kind.running)


# --- a step that cannot report progress keeps its lease from a thread ---------------------------
def test_it_keeps_the_lease_alive_around_a_long_call(transactional_db, owner, dataset):
    from datasets_app.models import DedupJob

    kind = dataclasses.replace(
        {k.name: k for k in leases.kinds_registered()}["dedup job"], lease=timedelta(seconds=0.6)
    )
    pk = DedupJob.objects.create(dataset=dataset, created_by=owner, method="exact").pk
    attempt = leases.lease_claim(kind, pk=pk)
    with leases.lease_kept(kind, pk=pk, attempt=attempt) as lost:
        time.sleep(1.5)  # two and a half leases: without renewals it would have run out
        assert _row(kind, pk)[kind.lease_expires_at] > timezone.now()
    assert not lost.is_set()
    time.sleep(0.7)  # after the block nothing renews it
    assert leases.lease_stale(kind).filter(pk=pk).exists()


# --- recovery is composed above the apps: datasets_app never reaches into training --------------
def _imported_modules(source: str) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
    return found


def test_it_keeps_datasets_app_free_of_training_imports():
    offenders = [
        str(path.relative_to(ROOT))
        for path in sorted((ROOT / "datasets_app").rglob("*.py"))
        if any(
            m == "training" or m.startswith("training.")
            for m in _imported_modules(path.read_text(encoding="utf-8"))
        )
    ]
    assert offenders == []


def test_it_recovers_every_kind_from_the_command(db, enqueued):
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("recover_jobs", stdout=out)
    for name in EXPECTED_KINDS:
        assert f"0 {name}(s)" in out.getvalue()
