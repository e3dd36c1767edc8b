"""Eval runs through the API and the worker's service, on the tiny Llama (random weights: its
answers are noise, which the evaluators must score as failures, never crash on)."""

import pytest

from evaluation.models import EvalResult, EvalRun
from evaluation.services import execute

pytestmark = pytest.mark.django_db


@pytest.fixture
def start(api_for, owner, suite, eval_settings, tiny_model_dir, no_enqueue):
    def post(**body):
        body.setdefault("base_model", str(tiny_model_dir))
        body.setdefault("max_new_tokens", 4)
        return api_for(owner).post(f"/api/v1/eval-suites/{suite.pk}/runs/", body, format="json")

    return post


def test_it_runs_a_suite_and_reports_every_metric_with_an_interval(start, api_for, owner, suite):
    response = start()
    assert response.status_code == 202, response.json()
    run = response.json()
    assert run["status"] == "queued" and run["total"] == 5
    execute.eval_run_execute(run_id=run["id"])

    done = api_for(owner).get(f"/api/v1/eval-runs/{run['id']}/").json()
    assert done["status"] == "succeeded", done["failure_reason"]
    assert done["processed"] == 5 and done["progress"] == 1.0 and done["eta_seconds"] is None
    assert set(done["metrics"]) == {"format", "final_number"}
    for metric in done["metrics"].values():
        assert metric["n"] == 5 and metric["method"] == "wilson"
        assert 0.0 <= metric["ci_low"] <= metric["mean"] <= metric["ci_high"] <= 1.0

    page = api_for(owner).get(f"/api/v1/eval-runs/{run['id']}/results/?page_size=2").json()
    assert page["count"] == 5 and len(page["results"]) == 2
    first = page["results"][0]
    assert first["position"] == 0 and first["reference"].endswith("#### 26")
    assert set(first["scores"]) == {"format", "final_number"}
    assert first["scores"]["final_number"]["detail"]["expected"] == "26"
    listed = api_for(owner).get(f"/api/v1/eval-suites/{suite.pk}/runs/").json()
    assert [r["id"] for r in listed["results"]] == [run["id"]]


def test_it_generates_in_batches_the_answers_one_at_a_time_generation_gives(tiny_model_dir):
    from training.recipe.evaluate import generate, generate_batch, load_for_generation

    model, tokenizer = load_for_generation(
        base_model=str(tiny_model_dir), models_dir="/nonexistent"
    )
    prompts = [
        [{"role": "user", "content": "Hi"}],
        [{"role": "user", "content": "What is the capital of France? Answer briefly."}],
        [{"role": "system", "content": "Be terse."}, {"role": "user", "content": "2+2?"}],
    ]
    batched = generate_batch(model, tokenizer, prompts, max_new_tokens=6, batch_size=8)
    assert batched == [generate(model, tokenizer, p, max_new_tokens=6) for p in prompts]


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"max_new_tokens": 0}, "max_new_tokens"),
        ({"max_new_tokens": 5000}, "max_new_tokens"),
        ({"max_new_tokens": "8"}, "max_new_tokens"),
        ({"temperature": 3}, "temperature"),
        ({"temperature": True}, "temperature"),
        ({"seed": -1}, "seed"),
        ({"base_model": "/etc"}, "base_model"),
    ],
)
def test_it_refuses_bad_run_settings_naming_the_field(start, body, path):
    response = start(**body)
    assert response.status_code == 400, response.json()
    assert response.json()["errors"][0]["path"] == path
    assert not EvalRun.objects.exists()


def test_it_refuses_another_teams_model(start, other_dataset, outsider):
    from tests.security.world import training_objects

    version = other_version(other_dataset, outsider)
    _, model, _ = training_objects(version)
    response = start(model=model.pk, base_model="")
    assert response.status_code == 404
    assert not EvalRun.objects.exists()


def other_version(dataset, user):
    from datasets_app.services.versions import dataset_version_freeze
    from tests.factories import ExampleFactory

    messages = [{"role": "user", "content": "Hi?"}, {"role": "assistant", "content": "Hello."}]
    ExampleFactory(user=user, dataset=dataset, messages=messages)
    return dataset_version_freeze(user=user, dataset=dataset, name="theirs")


def test_it_refuses_a_model_and_a_base_model_together(start, gsm_version):
    from tests.security.world import training_objects

    _, model, _ = training_objects(gsm_version)
    response = start(model=model.pk)
    assert response.status_code == 400
    assert response.json()["errors"][0]["path"] == "model"


def test_it_hides_a_run_from_another_team(start, api_for, outsider):
    run_id = start().json()["id"]
    theirs = api_for(outsider)
    for path in ("", "results/", f"compare/?against={run_id}"):
        assert theirs.get(f"/api/v1/eval-runs/{run_id}/{path}").status_code == 404
    assert theirs.post(f"/api/v1/eval-runs/{run_id}/cancel/").status_code == 404


def test_it_cancels_a_queued_run(start, api_for, owner):
    run_id = start().json()["id"]
    response = api_for(owner).post(f"/api/v1/eval-runs/{run_id}/cancel/")
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    execute.eval_run_execute(run_id=run_id)  # the message arrives after all
    assert EvalRun.objects.get(pk=run_id).status == "cancelled"
    assert not EvalResult.objects.exists()
    again = api_for(owner).post(f"/api/v1/eval-runs/{run_id}/cancel/")
    assert again.status_code == 409


def test_it_stops_a_running_run_between_batches_and_keeps_its_outputs(start, monkeypatch):
    from training.recipe import evaluate

    run_id = start().json()["id"]
    original = evaluate.generate_batch

    def cancelling(*args, on_batch, **kwargs):
        def after(indices, answers):
            EvalRun.objects.filter(pk=run_id).update(cancel_requested=True)
            return on_batch(indices, answers)

        return original(*args, on_batch=after, **kwargs)

    monkeypatch.setattr(evaluate, "generate_batch", cancelling)
    execute.eval_run_execute(run_id=run_id)
    run = EvalRun.objects.get(pk=run_id)
    assert run.status == "cancelled"
    assert run.processed == 2 == EvalResult.objects.filter(run=run).count()  # one batch of 2
    assert run.metrics["evaluators"]["final_number"]["n"] == 2


def test_it_generates_only_what_an_interrupted_attempt_left(start, suite):
    from evaluation.services.items import suite_items

    run_id = start().json()["id"]
    first = suite_items(suite)[0]
    EvalResult.objects.create(
        run_id=run_id, entry_id=first.entry_id, position=0, output="#### 8", scores={}
    )
    execute.eval_run_execute(run_id=run_id)
    results = EvalResult.objects.filter(run_id=run_id)
    assert results.count() == 5
    assert results.get(position=0).output == "#### 8"


def test_it_marks_a_garbled_judge_as_judge_error_never_zero(
    api_for, owner, make_suite, eval_settings, tiny_model_dir, no_enqueue
):
    eval_settings.FINETUNEDB_EVAL_JUDGES = {"default": {"base_model": str(tiny_model_dir)}}
    eval_settings.FINETUNEDB_EVAL_JUDGE_MAX_NEW_TOKENS = 4
    suite = make_suite(
        name="judged", evaluators=[{"type": "llm_judge", "params": {"rubric": "Correct?"}}]
    )
    run_id = (
        api_for(owner)
        .post(
            f"/api/v1/eval-suites/{suite.pk}/runs/",
            {"base_model": str(tiny_model_dir), "max_new_tokens": 3},
            format="json",
        )
        .json()["id"]
    )
    execute.eval_run_execute(run_id=run_id)
    run = EvalRun.objects.get(pk=run_id)
    assert run.status == "succeeded", run.failure_reason
    metric = run.metrics["evaluators"]["llm_judge"]
    assert metric["n"] == 0 and metric["mean"] is None
    assert metric["errors"] == 5 and metric["error_reasons"] == {"judge_error": 5}
    for result in EvalResult.objects.filter(run=run):
        assert result.scores["llm_judge"]["value"] is None
        assert result.scores["llm_judge"]["reason"] == "judge_error"
