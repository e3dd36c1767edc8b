"""The compare page's "Judge with LLM": a form post (CSRF) that queues the judging, a pending
panel while the worker judges, then the win rate with its interval, the position bias and each
verdict with the judge's reason."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from evaluation.judged_models import JudgedComparison
from tests.evaluation.test_judging_api import deliver, runs, sent  # noqa: F401
from tests.evaluation.test_pairwise_service import finished_run
from tests.evaluation.test_parent_comparison import judge_server, judged_suite  # noqa: F401

pytestmark = pytest.mark.django_db


def compare(run, against):
    return f"/evals/runs/{run.pk}/compare/?against={against.pk}"


def test_it_judges_two_runs_from_the_compare_page(
    client, owner, runs, sent, judge_server, django_capture_on_commit_callbacks  # noqa: F811
):  # fmt: skip
    run, against = runs
    client.force_login(owner)
    page = client.get(compare(run, against)).content.decode()
    form = page[page.index('action="/evals/runs/') : page.index('id="judge-llm"')]
    assert f'action="/evals/runs/{run.pk}/judge/"' in form and "csrfmiddlewaretoken" in form
    assert f'name="against" value="{against.pk}"' in form
    assert "Judge with LLM" in page

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/evals/runs/{run.pk}/judge/", {"against": against.pk})
    assert response.status_code == 302
    assert response["Location"] == f"{compare(run, against)}#llm-judge"
    pending = client.get(response["Location"]).content.decode()
    assert "judging the two runs on the worker" in pending
    assert "Queued on the worker: 0 of 5 items judged" in pending
    assert '<meta http-equiv="refresh"' in pending

    deliver(sent)

    done = client.get(compare(run, against)).content.decode()
    assert '<meta http-equiv="refresh"' not in done
    summary = JudgedComparison.objects.get().summary
    rate = f"{100 * summary['win_rate']:.1f} % [{100 * summary['ci_low']:.1f} %, "
    assert rate in done and "(n=4)" in done and "1 without a verdict" in done
    assert "the answer shown as A won 100.0 % of 4 decisive verdicts" in done
    verdicts = re.findall(r'<tr data-verdict="(\d)">(.*?)</tr>', done, re.DOTALL)
    assert len(verdicts) == 5
    assert sum("first" in row for _, row in verdicts) == 4  # the judge's reason
    assert sum("no verdict" in row for _, row in verdicts) == 1
    # asked again from the page: the same comparison
    again = client.post(f"/evals/runs/{run.pk}/judge/", {"against": against.pk}, follow=True)
    assert "already judged by that judge" in again.content.decode()
    assert JudgedComparison.objects.count() == 1


def test_it_offers_the_button_only_to_those_who_may_start_it(
    client, teammate, runs, judge_server  # noqa: F811
):  # fmt: skip
    run, against = runs
    client.force_login(teammate)  # an annotator
    assert "Judge with LLM" not in client.get(compare(run, against)).content.decode()
    response = client.post(f"/evals/runs/{run.pk}/judge/", {"against": against.pk})
    assert response.status_code == 403 and not JudgedComparison.objects.exists()


def test_it_says_why_two_runs_cannot_be_judged(client, owner, runs, judged_suite, judge_server):  # noqa: F811
    run, _ = runs
    running = finished_run(judged_suite, "still-going", status="running")
    client.force_login(owner)
    page = client.get(compare(run, running)).content.decode()
    assert "Judge with LLM" not in page  # only two succeeded runs
    response = client.post(f"/evals/runs/{run.pk}/judge/", {"against": running.pk}, follow=True)
    assert "against: run" in response.content.decode() and "succeeded runs" in (
        response.content.decode()
    )
    assert not JudgedComparison.objects.exists()


def test_it_refuses_a_post_without_its_csrf_token(owner, runs, judge_server):  # noqa: F811
    run, against = runs
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(owner)
    response = browser.post(f"/evals/runs/{run.pk}/judge/", {"against": against.pk})
    assert response.status_code == 403 and not JudgedComparison.objects.exists()
