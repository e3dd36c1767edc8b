"""The LLM judge on any two succeeded runs of a suite, asked for through the API (DESIGN §8,
extended: ``eval-runs/{id}/judge/``): 202 queued, judged on the training worker by a stub
OpenAI-compatible judge on 127.0.0.1 (FINETUNEDB_JUDGES) that always picks the answer shown as
A and answers one item with prose, then the comparison's win rate, interval, errors, position
bias and verdicts page by page; asked again, the same comparison."""

from __future__ import annotations

import pytest
import yaml
from django.utils import timezone

from evaluation import tasks as evaluation_tasks
from evaluation.evaluators.judge import NOT_ASKED_FORMAT, pairwise_order
from evaluation.judged_models import JudgedComparison
from evaluation.services import judging
from evaluation.services.items import suite_items
from finetunedb import leases
from tests.evaluation.test_pairwise_service import finished_run
from tests.evaluation.test_parent_comparison import (  # noqa: F401
    GARBLED_ITEM,
    AlwaysFirst,
    judge_server,
    judged_suite,
)

pytestmark = pytest.mark.django_db

# A seed that shows each run's answer as A on some of the five items: both orders drawn.
SEED = next(s for s in range(100) if len({pairwise_order(s, str(p)) for p in range(5)}) == 2)


def base(run_id):
    return f"/api/v1/eval-runs/{run_id}/judge/"


@pytest.fixture
def runs(judged_suite):  # noqa: F811
    return finished_run(judged_suite, "tuned-model"), finished_run(judged_suite, "base-model")


@pytest.fixture
def sent(monkeypatch):
    """Judging tokens, kept instead of sent to the broker; ``deliver()`` runs them as the
    training worker does, through the task."""
    tokens: list[int] = []
    monkeypatch.setattr(judging, "judged_comparison_enqueue", tokens.append)
    monkeypatch.setattr(judging.secrets, "randbelow", lambda n: SEED)
    return tokens


def deliver(tokens):
    while tokens:
        evaluation_tasks.judged_comparison_execute.apply(args=[tokens.pop(0)])


def test_it_judges_two_runs_on_the_worker(
    api_for, owner, runs, sent, judge_server, django_capture_on_commit_callbacks  # noqa: F811
):  # fmt: skip
    api = api_for(owner)
    run, against = runs
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(base(run.pk), {"against": against.pk}, format="json")
    assert response.status_code == 202, response.json()
    queued = response.json()
    assert (queued["status"], queued["processed"], queued["total"]) == ("queued", 0, 5)
    assert (queued["judge"], queued["evaluator"], queued["summary"]) == ("stub", "llm_judge", {})
    url = f"{base(run.pk)}{queued['id']}/"
    pending = api.get(url).json()
    assert pending["status"] == "queued" and pending["verdicts"]["count"] == 0
    assert sent == [queued["id"]] and AlwaysFirst.asked == []  # nothing judged in the request

    deliver(sent)

    done = api.get(url).json()
    assert (done["status"], done["processed"], done["progress"]) == ("succeeded", 5, 1.0)
    prompts = AlwaysFirst.asked
    assert len(prompts) == 5 and all("Which answer is right?" in p for p in prompts)
    shown_a = {p.split("Answer A:\n")[1].split(" answer")[0] for p in prompts}
    assert shown_a == {"tuned-model", "base-model"}  # both orders drawn
    # the stub picks A: the run wins exactly where its answer was shown as A; prose is an error
    swapped = {p: pairwise_order(SEED, str(p)) for p in range(5)}
    items = suite_items(run.suite)
    garbled = next(p for p, item in enumerate(items) if GARBLED_ITEM in str(item.messages))
    page = api.get(f"{url}?page_size=2").json()["verdicts"]
    assert page["count"] == 5 and len(page["results"]) == 2 and page["next"]
    verdicts = page["results"] + api.get(page["next"]).json()["verdicts"]["results"]
    verdicts += api.get(f"{url}?page_size=2&page=3").json()["verdicts"]["results"]
    assert [v["position"] for v in verdicts] == list(range(5))
    for v in verdicts:
        assert v["swapped"] == swapped[v["position"]]
        if v["position"] == garbled:
            assert (v["winner"], v["reason"], v["why"]) == (None, "", NOT_ASKED_FORMAT)
        else:
            assert v["winner"] == ("against" if v["swapped"] else "run")
            assert v["reason"] == "first"
    summary = done["summary"]
    wins = sum(1 for p in range(5) if p != garbled and not swapped[p])
    assert (summary["wins"], summary["losses"], summary["ties"]) == (wins, 4 - wins, 0)
    assert (summary["errors"], summary["n"], summary["win_rate"]) == (1, 4, wins / 4)
    assert summary["ci_low"] <= summary["win_rate"] <= summary["ci_high"]
    assert summary["position_bias"] == {"first_shown_wins": 4, "decisive": 4, "rate": 1.0}
    listed = api.get(base(against.pk)).json()  # either side lists it
    assert [c["id"] for c in listed] == [queued["id"]]


def test_it_returns_the_existing_comparison_when_asked_again(
    api_for, owner, runs, sent, judge_server, django_capture_on_commit_callbacks  # noqa: F811
):  # fmt: skip
    api = api_for(owner)
    run, against = runs
    with django_capture_on_commit_callbacks(execute=True):
        first = api.post(base(run.pk), {"against": against.pk}, format="json").json()
    again = api.post(base(run.pk), {"against": against.pk, "judge": "llm_judge"}, format="json")
    assert again.status_code == 200 and again.json()["id"] == first["id"]
    deliver(sent)
    after = api.post(base(run.pk), {"against": against.pk}, format="json")
    assert after.status_code == 200 and after.json()["status"] == "succeeded"
    assert JudgedComparison.objects.count() == 1 and len(AlwaysFirst.asked) == 5
    # the judge named alone is another comparison, under the default rubric
    alone = api.post(base(run.pk), {"against": against.pk, "judge": "stub"}, format="json")
    assert alone.status_code == 202
    assert (alone.json()["evaluator"], alone.json()["rubric"]) == ("", judging.DEFAULT_RUBRIC)
    # the other way round is another comparison too
    assert api.post(base(against.pk), {"against": run.pk}, format="json").status_code == 202


def test_it_judges_a_failed_comparison_again(api_for, owner, runs, sent, judge_server):  # noqa: F811
    api = api_for(owner)
    run, against = runs
    first = api.post(base(run.pk), {"against": against.pk}, format="json").json()
    JudgedComparison.objects.filter(pk=first["id"]).update(status="failed", failure_reason="x")
    again = api.post(base(run.pk), {"against": against.pk}, format="json")
    assert again.status_code == 202 and again.json()["id"] != first["id"]
    assert list(JudgedComparison.objects.values_list("status", flat=True)) == ["queued"]


def test_it_names_the_field_when_runs_cannot_be_judged(
    api_for, owner, runs, judged_suite, suite, judge_server  # noqa: F811
):  # fmt: skip
    api = api_for(owner)
    run, against = runs
    running = finished_run(judged_suite, "still-going", status="running")
    response = api.post(base(run.pk), {"against": running.pk}, format="json")
    assert response.status_code == 409 and response.json()["errors"][0]["path"] == "against"
    response = api.post(base(run.pk), {"against": run.pk}, format="json")
    assert response.status_code == 400 and response.json()["errors"][0]["path"] == "against"
    elsewhere = finished_run(suite, "other-suite")
    response = api.post(base(run.pk), {"against": elsewhere.pk}, format="json")
    assert (
        response.status_code == 400 and "another suite" in response.json()["errors"][0]["message"]
    )
    response = api.post(base(run.pk), {"against": against.pk, "judge": "gpt-9"}, format="json")
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert (
        error["path"] == "judge" and "llm_judge" in error["message"] and "stub" in error["message"]
    )
    response = api.post(base(elsewhere.pk), {"against": finished_run(suite, "x").pk}, format="json")
    assert response.status_code == 400 and response.json()["errors"][0]["path"] == "judge"
    assert api.post(base(run.pk), {"against": "x"}, format="json").status_code == 400
    assert api.post(base(run.pk), {"against": 999_999}, format="json").status_code == 404
    assert not JudgedComparison.objects.exists()  # nothing half-created


def test_it_hides_other_teams_comparisons(api_for, owner, outsider, runs, sent, judge_server):  # noqa: F811
    run, against = runs
    made = api_for(owner).post(base(run.pk), {"against": against.pk}, format="json").json()
    outside = api_for(outsider)
    assert outside.get(f"{base(run.pk)}{made['id']}/").status_code == 404
    assert outside.post(base(run.pk), {"against": against.pk}, format="json").status_code == 404
    # nested under a run that is neither side: 404 too
    third = finished_run(run.suite, "third-model")
    assert api_for(owner).get(f"{base(third.pk)}{made['id']}/").status_code == 404


def test_it_shows_a_comparison_under_either_run_as_the_list_does(api_for, owner, runs, sent):
    # The against run's list names the comparison; its detail under that run's URL was a 404.
    run, against = runs
    api = api_for(owner)
    made = api.post(base(run.pk), {"against": against.pk}, format="json").json()
    listed = api.get(base(against.pk)).json()
    assert [c["id"] for c in listed] == [made["id"]]
    detail = api.get(f"{base(against.pk)}{made['id']}/")
    assert detail.status_code == 200
    assert (detail.json()["run"], detail.json()["against"]) == (run.pk, against.pk)


def test_it_leaves_no_verdict_when_the_worker_dies_mid_judging(
    owner, runs, sent, judge_server, monkeypatch  # noqa: F811
):  # fmt: skip
    run, against = runs
    comparison, created = judging.judged_comparison_request(user=owner, run=run, against=against)
    assert created
    monkeypatch.setattr(judging, "CHUNK", 2)  # an endpoint's calls, two per progress write
    from evaluation.services import execute

    calls = {"n": 0}
    answer = execute._judge_answers

    def dies_on_the_second_chunk(judge, prompts):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt  # the process goes away: nothing after this runs
        return answer(judge, prompts)

    monkeypatch.setattr(execute, "_judge_answers", dies_on_the_second_chunk)
    with pytest.raises(KeyboardInterrupt):
        judging.judged_comparison_execute(comparison_id=comparison.pk)
    comparison.refresh_from_db()
    assert (comparison.status, comparison.processed) == ("running", 2)  # its progress so far
    assert (comparison.verdicts, comparison.summary) == ([], {})  # and no verdict

    monkeypatch.setattr(execute, "_judge_answers", answer)
    JudgedComparison.objects.filter(pk=comparison.pk).update(lease_expires_at=timezone.now())
    assert leases.jobs_recover(names=["judged comparison"]) == {"judged comparison": 1}
    deliver(sent)
    comparison.refresh_from_db()
    assert (comparison.status, comparison.attempts, len(comparison.verdicts)) == ("succeeded", 2, 5)
    assert comparison.summary["n"] + comparison.summary["errors"] == 5


def test_it_counts_a_served_judges_garbage_as_errors_never_as_verdicts(
    api_for, owner, make_suite, eval_settings, tiny_model_dir, sent
):
    """A judge served on the worker (the tiny model, loaded there): its few random tokens are
    no verdict, so every item is an error and there is no win rate."""
    eval_settings.FINETUNEDB_EVAL_JUDGES = {"default": {"base_model": str(tiny_model_dir)}}
    eval_settings.FINETUNEDB_EVAL_JUDGE_MAX_NEW_TOKENS = 4
    eval_settings.FINETUNEDB_JUDGES = {}
    suite = make_suite(
        name="served", evaluators=[{"type": "llm_judge", "params": {"rubric": "Correct?"}}]
    )
    run, against = finished_run(suite, "tuned-model"), finished_run(suite, "base-model")
    api = api_for(owner)
    created = api.post(base(run.pk), {"against": against.pk, "judge": "default"}, format="json")
    assert created.status_code == 202 and created.json()["evaluator"] == ""
    judging.judged_comparison_execute(comparison_id=created.json()["id"])
    done = api.get(f"{base(run.pk)}{created.json()['id']}/").json()
    assert (done["status"], done["processed"]) == ("succeeded", 5), done["failure_reason"]
    summary = done["summary"]
    assert (summary["errors"], summary["n"], summary["win_rate"]) == (5, 0, None)
    assert summary["position_bias"]["rate"] is None
    assert all(v["winner"] is None and v["why"] for v in done["verdicts"]["results"])


def test_it_caps_the_judgings_a_team_has_waiting(api_for, owner, runs, sent, judge_server):  # noqa: F811
    api = api_for(owner)
    run, against = runs
    asked = [(run, against, j) for j in ("llm_judge", "stub", "default")] + [
        (against, run, "llm_judge")
    ]
    for a, b, judge in asked:
        response = api.post(base(a.pk), {"against": b.pk, "judge": judge}, format="json")
        assert response.status_code == 202
    response = api.post(base(against.pk), {"against": run.pk, "judge": "stub"}, format="json")
    assert response.status_code == 409 and "at most 4" in response.json()["detail"]
    assert JudgedComparison.objects.count() == 4
    # an existing one is still answered, waiting or not
    again = api.post(base(run.pk), {"against": against.pk}, format="json")
    assert again.status_code == 200


def test_it_documents_the_routes_in_the_schema(client):
    paths = yaml.safe_load(client.get("/api/v1/schema/").content)["paths"]
    start = paths["/api/v1/eval-runs/{eval_run_id}/judge/"]
    assert {"202", "200"} <= set(start["post"]["responses"]) and "get" in start
    assert "get" in paths["/api/v1/eval-runs/{eval_run_id}/judge/{comparison_id}/"]
