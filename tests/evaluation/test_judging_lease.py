"""Judged comparisons claim through the one lease module: the same claim / renew / recover tests
every job kind passes (tests/test_one_lease.py, collected here with this module's ``kind`` and
``make_job``)."""

from __future__ import annotations

import pytest

from finetunedb import leases
from tests.evaluation.test_pairwise_service import finished_run
from tests.test_one_lease import (  # noqa: F401  (collected here: the shared tests, our kind)
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


@pytest.fixture
def kind(db):
    return {k.name: k for k in leases.kinds_registered()}["judged comparison"]


@pytest.fixture
def make_job(suite):
    from evaluation.judged_models import JudgedComparison

    def make(kind):
        run, against = finished_run(suite, "a"), finished_run(suite, "b")
        return JudgedComparison.objects.create(
            run=run, against=against, judge="stub", rubric="r", seed=1, total=5
        ).pk

    return make
