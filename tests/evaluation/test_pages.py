import json

import pytest

from evaluation.models import EvalRun, EvalSuite
from tests.evaluation.test_compare import run_with

pytestmark = pytest.mark.django_db


def test_it_creates_a_suite_from_the_form(client, owner, gsm_version):
    client.force_login(owner)
    page = client.get("/evals/")
    assert page.status_code == 200 and b"New suite" in page.content
    response = client.post(
        "/evals/",
        {
            "name": "gsm8k test",
            "version": gsm_version.pk,
            "split": "test",
            "evaluators": json.dumps([{"type": "final_number"}]),
        },
    )
    suite = EvalSuite.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/evals/suites/{suite.pk}/"
    assert suite.item_count == 5
    assert b"gsm8k test" in client.get("/evals/").content


def test_it_shows_why_a_suite_is_refused(client, owner, gsm_version):
    client.force_login(owner)
    response = client.post(
        "/evals/",
        {
            "name": "bad",
            "version": gsm_version.pk,
            "evaluators": json.dumps([{"type": "regex", "params": {"pattern": "(?=x)"}}]),
        },
    )
    assert response.status_code == 400
    assert b"evaluators[0].params.pattern" in response.content
    assert not EvalSuite.objects.exists()


def test_it_shows_a_leaderboard_a_run_and_a_comparison(client, owner, suite):
    old = run_with(suite, [True, True, False, False, True], "base-model")
    new = run_with(suite, [True, False, True, True, True], "tuned-model")
    from evaluation.comparison import metrics_aggregate
    from evaluation.models import EvalResult

    for run in (old, new):
        scores = list(EvalResult.objects.filter(run=run).values_list("scores", flat=True))
        EvalRun.objects.filter(pk=run.pk).update(
            metrics={"evaluators": metrics_aggregate(["format", "final_number"], scores)}
        )
    client.force_login(owner)
    board = client.get(f"/evals/suites/{suite.pk}/").content.decode()
    assert "base base-model" in board and "base tuned-model" in board
    assert "80.0 % [" in board and "(n=5)" in board  # 4 of 5 with its interval

    detail = client.get(f"/evals/runs/{new.pk}/").content.decode()
    assert "Pass rate" in detail and "tuned-model answer 1" in detail and "5 / 5 items" in detail

    compare = client.get(f"/evals/runs/{new.pk}/compare/?against={old.pk}").content.decode()
    assert "Regressions (1)" in compare
    assert "base-model answer 1" in compare and "tuned-model answer 1" in compare


def test_it_starts_and_cancels_a_run_from_the_pages(client, owner, suite, no_enqueue):
    client.force_login(owner)
    response = client.post(f"/evals/suites/{suite.pk}/", {"max_new_tokens": "8"})
    run = EvalRun.objects.get()
    assert response["Location"] == f"/evals/runs/{run.pk}/"
    assert run.base_model and run.max_new_tokens == 8
    client.post(f"/evals/runs/{run.pk}/cancel/")
    run.refresh_from_db()
    assert run.status == "cancelled"


def test_it_refuses_bad_run_settings_on_the_page(client, owner, suite, no_enqueue):
    client.force_login(owner)
    response = client.post(f"/evals/suites/{suite.pk}/", {"max_new_tokens": "0"}, follow=True)
    assert b"max_new_tokens must be an integer" in response.content
    assert not EvalRun.objects.exists()


def test_it_lists_a_models_eval_runs_from_the_model_page(client, owner, suite, gsm_version):
    from tests.security.world import training_objects

    _, model, _ = training_objects(gsm_version)
    run = EvalRun.objects.create(suite=suite, model=model, total=5)
    client.force_login(owner)
    assert f"/models/{model.pk}/evals/" in client.get(f"/models/{model.pk}/").content.decode()
    page = client.get(f"/models/{model.pk}/evals/").content.decode()
    assert f"/evals/runs/{run.pk}/" in page


def test_it_hides_another_teams_suites_and_runs(client, outsider, suite):
    run = run_with(suite, [True] * 5, "x")
    client.force_login(outsider)
    assert suite.name not in client.get("/evals/").content.decode()
    assert client.get(f"/evals/suites/{suite.pk}/").status_code == 404
    assert client.get(f"/evals/runs/{run.pk}/").status_code == 404
