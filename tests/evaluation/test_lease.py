"""Eval runs claim through the one lease module: the same claim / renew / recover tests every
job kind passes (tests/test_one_lease.py, collected here with this module's ``kind`` and
``make_job``), and the evaluation app writes no lease field by hand."""

from __future__ import annotations

from pathlib import Path

import pytest

from finetunedb import leases
from tests.test_one_lease import (  # noqa: F401  (collected here: the shared tests, our kind)
    _lease_fields,
    claim_violations,
    enqueued,
    test_it_claims_a_job_once,
    test_it_does_not_recover_a_job_while_its_lease_is_alive,
    test_it_finishes_a_job_and_releases_its_lease,
    test_it_gives_up_after_too_many_interruptions,
    test_it_recovers_a_job_after_its_lease_expires,
    test_it_recovers_a_queued_job_whose_message_was_lost,
    test_it_recovers_a_running_job_that_has_no_lease,
    test_it_renews_the_lease_only_for_the_attempt_that_holds_it,
)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def kind(db):
    return {k.name: k for k in leases.kinds_registered()}["eval run"]


@pytest.fixture
def make_job(suite):
    from evaluation.models import EvalRun

    def make(kind):
        return EvalRun.objects.create(suite=suite, base_model="tiny", total=5).pk

    return make


def test_it_allows_no_claim_outside_the_lease_module_in_the_evaluation_app(db):
    fields, statuses, running = _lease_fields()
    assert "lease_expires_at" in fields
    problems = [
        f"{path.relative_to(ROOT)} {line}"
        for path in sorted((ROOT / "evaluation").rglob("*.py"))
        if "migrations" not in path.parts
        for line in claim_violations(
            path.read_text(encoding="utf-8"), fields=fields, statuses=statuses, running=running
        )
    ]
    assert problems == []
