"""The per-team caps on eval runs and LLM-judge comparisons hold under concurrent launches on
PostgreSQL: the count is taken under the team's row lock (Django drops FOR UPDATE from an
aggregate, so locking the counted rows locked nothing and two launches at once both counted
one slot free)."""

import threading

import pytest
from django.conf import settings
from django.db import connection, transaction

from evaluation.models import EvalRun
from finetunedb.exceptions import ConflictError
from finetunedb.teams.services import team_lock
from tests.evaluation.test_judging_api import runs, sent  # noqa: F401
from tests.evaluation.test_parent_comparison import judge_server, judged_suite  # noqa: F401

# Row locks are PostgreSQL's (SQLite's IMMEDIATE transactions already serialise writers). Skipped
# before the database is set up: a transactional test's flush on SQLite trips the frozen-version
# trigger.
ON_POSTGRES = "postgresql" in settings.DATABASES["default"]["ENGINE"]
pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not ON_POSTGRES, reason="row locks are PostgreSQL's"),
    pytest.mark.django_db(transaction=True),
]


def _launch_while_another_holds_the_team(suite, take_last_slot, launch):
    """Thread A locks the team, then takes the last slot and commits; thread B launches
    meanwhile. B must wait for A's lock and then be refused."""
    held, release, outcome = threading.Event(), threading.Event(), {}

    def holder():
        try:
            with transaction.atomic():
                team_lock(suite.team_id)
                held.set()
                release.wait(10)
                take_last_slot()
        finally:
            connection.close()

    def launcher():
        held.wait(10)
        try:
            launch()
            outcome["result"] = "started"
        except ConflictError as exc:
            outcome["result"] = str(exc)
        finally:
            connection.close()

    a, b = threading.Thread(target=holder), threading.Thread(target=launcher)
    a.start()
    b.start()
    b.join(1.0)
    waited = b.is_alive()
    release.set()
    a.join(10)
    b.join(10)
    assert waited, "the launch did not wait for the team's lock"
    return outcome["result"]


def test_it_refuses_an_eval_run_launched_while_another_takes_the_last_slot(
    suite, owner, eval_settings, tiny_model_dir, no_enqueue
):
    from evaluation.services.runs import MAX_ACTIVE_PER_TEAM, eval_run_start

    for _ in range(MAX_ACTIVE_PER_TEAM - 1):
        EvalRun.objects.create(suite=suite, base_model="other")

    result = _launch_while_another_holds_the_team(
        suite,
        take_last_slot=lambda: EvalRun.objects.create(suite=suite, base_model="other"),
        launch=lambda: eval_run_start(
            user=owner, suite=suite, base_model=str(tiny_model_dir), max_new_tokens=4
        ),
    )

    assert result != "started" and str(MAX_ACTIVE_PER_TEAM) in result
    assert EvalRun.objects.filter(suite=suite).count() == MAX_ACTIVE_PER_TEAM


def test_it_refuses_a_judging_asked_for_while_another_takes_the_last_slot(
    owner,
    runs,  # noqa: F811
    sent,  # noqa: F811
    judge_server,  # noqa: F811
):
    from evaluation.judged_models import JudgedComparison
    from evaluation.services.judging import MAX_ACTIVE_PER_TEAM, judged_comparison_request

    run, against = runs
    for judge in ("llm_judge", "stub", "default"):
        judged_comparison_request(user=owner, run=run, against=against, judge=judge)
    assert MAX_ACTIVE_PER_TEAM == 4

    result = _launch_while_another_holds_the_team(
        run.suite,
        take_last_slot=lambda: judged_comparison_request(
            user=owner, run=against, against=run, judge="llm_judge"
        ),
        launch=lambda: judged_comparison_request(
            user=owner, run=against, against=run, judge="stub"
        ),
    )

    assert result != "started" and "at most 4" in result
    assert JudgedComparison.objects.count() == 4
