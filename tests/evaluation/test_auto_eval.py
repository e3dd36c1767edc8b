"""Automatic evaluation after training: a launch names eval suites; when the run succeeds, eval
runs start for the new model, the base and the previous model of the dataset; the model page
shows the new model against both."""

import re

import pytest

from evaluation.auto_models import AutoEval
from evaluation.models import EvalRun
from evaluation.services import execute as eval_execute
from training.hooks import run_succeeded_notify
from training.models import ModelArtifact, TrainingRun

pytestmark = pytest.mark.django_db

TINY = {"epochs": 1, "batch_size": 2, "max_seq_len": 64, "lora_r": 4, "lora_alpha": 8}


@pytest.fixture
def launch(api_for, owner, gsm_version, eval_settings, tiny_model_dir, monkeypatch):
    from training.services import execute, runs

    monkeypatch.setattr(runs, "training_run_enqueue", lambda run_id: None)
    monkeypatch.setattr(execute, "model_evaluate_enqueue", lambda model_id: None)

    def post(user=owner, **body):
        body = {"base_model": str(tiny_model_dir), "hyperparameters": TINY, **body}
        return api_for(user).post(
            f"/api/v1/versions/{gsm_version.pk}/training-runs/", body, format="json"
        )

    return post


def _model(version, base="tiny"):
    run = TrainingRun.objects.create(
        version=version, dataset_version_hash=version.content_hash, base_model=base, config={}
    )
    return ModelArtifact.objects.create(run=run, path=f"runs/{run.pk}/model", weights_sha256="0")


def test_it_records_the_suites_a_launch_names(launch, suite):
    response = launch(eval_suites=[suite.pk])
    assert response.status_code == 201, response.json()
    run = TrainingRun.objects.get(pk=response.json()["id"])
    assert [a.suite_id for a in AutoEval.objects.filter(training_run=run)] == [suite.pk]


@pytest.mark.parametrize(
    ("value", "path"),
    [
        ([999999], "eval_suites[0]"),
        ("all", "eval_suites"),
        ([True], "eval_suites[0]"),
        (list(range(1, 12)), "eval_suites"),
    ],
)
def test_it_refuses_bad_suites_naming_the_item_and_creates_no_run(launch, suite, value, path):
    response = launch(eval_suites=value)
    assert response.status_code == 400
    assert response.json()["errors"][0]["path"] == path
    assert not TrainingRun.objects.exists() and not AutoEval.objects.exists()


def test_it_refuses_another_teams_suite(launch, suite, outsider, team_with, make_example):
    from datasets_app.services.versions import dataset_version_freeze
    from evaluation.services.suites import eval_suite_create
    from tests.evaluation.conftest import FORMAT_AND_NUMBER, gsm_chat
    from tests.factories import DatasetFactory

    other = team_with("Other", owner=outsider)
    dataset = DatasetFactory(team=other, name="theirs", created_by=outsider)
    make_example(dataset, outsider, gsm_chat(1), split="test")
    version = dataset_version_freeze(user=outsider, dataset=dataset, name="x")
    theirs = eval_suite_create(
        user=outsider, team=other, version=version, name="t", evaluators=FORMAT_AND_NUMBER
    )
    response = launch(eval_suites=[suite.pk, theirs.pk])
    assert response.status_code == 400
    assert response.json()["errors"][0]["path"] == "eval_suites[1]"
    assert not TrainingRun.objects.exists()


def test_it_starts_runs_for_the_new_base_and_previous_model_once(
    suite, gsm_version, owner, no_enqueue
):
    previous = _model(gsm_version)
    EvalRun.objects.create(suite=suite, base_model="tiny", status="succeeded")  # base has one
    new = _model(gsm_version)
    new.run.created_by = owner
    new.run.save()
    AutoEval.objects.create(training_run=new.run, suite=suite)
    run_succeeded_notify(run_id=new.run_id, model_id=new.pk)

    runs = EvalRun.objects.filter(suite=suite).exclude(status="succeeded")
    assert sorted((r.model_id or 0) for r in runs) == sorted([new.pk, previous.pk])
    auto = AutoEval.objects.get()
    assert auto.started and "already has run" in auto.note and "started eval run" in auto.note
    run_succeeded_notify(run_id=new.run_id, model_id=new.pk)  # a redelivery starts nothing
    assert EvalRun.objects.filter(suite=suite).count() == 3


def test_it_notes_a_run_it_could_not_start(suite, gsm_version, owner, no_enqueue):
    from evaluation.services.runs import MAX_ACTIVE_PER_TEAM

    for _ in range(MAX_ACTIVE_PER_TEAM):
        EvalRun.objects.create(suite=suite, base_model="other")
    new = _model(gsm_version)
    new.run.created_by = owner
    new.run.save()
    AutoEval.objects.create(training_run=new.run, suite=suite)
    run_succeeded_notify(run_id=new.run_id, model_id=new.pk)
    assert "could not start the run of the new model" in AutoEval.objects.get().note


def test_it_evaluates_a_trained_model_after_training_and_shows_it_against_the_base(
    launch, suite, client, owner, no_enqueue, django_capture_on_commit_callbacks
):
    from training.services import execute

    run_id = launch(eval_suites=[suite.pk]).json()["id"]
    with django_capture_on_commit_callbacks(execute=True):
        execute.training_run_execute(run_id=run_id)
    model = ModelArtifact.objects.get(run_id=run_id)
    started = EvalRun.objects.filter(suite=suite)
    assert {(r.model_id, r.base_model) for r in started} == {
        (model.pk, ""),
        (None, model.run.base_model),
    }
    for eval_run in started:
        eval_run.max_new_tokens = 3
        eval_run.save()
        eval_execute.eval_run_execute(run_id=eval_run.pk)
    assert set(EvalRun.objects.values_list("status", flat=True)) == {"succeeded"}

    client.force_login(owner)
    page = client.get(f"/models/{model.pk}/").content.decode()
    assert "this model against the base and the previous model" in page
    assert 'data-metric="format"' in page and 'data-metric="final_number"' in page
    assert "(n=5)" in page and "no earlier model" in page
    assert re.search(r'data-delta="base">[+-][0-9]+\.[0-9] pts<', page)
    assert 'data-delta="previous">–<' in page


def test_it_offers_the_teams_suites_on_the_launch_form(client, owner, suite, gsm_version):
    client.force_login(owner)
    page = client.get(f"/versions/{gsm_version.pk}/train/").content.decode()
    assert 'name="eval_suites"' in page and suite.name in page


def test_it_launches_from_the_form_with_the_checked_suites(
    client, owner, suite, gsm_version, eval_settings, tiny_model_dir, monkeypatch
):
    from training.recipe.config import TrainConfig
    from training.services import runs

    monkeypatch.setattr(runs, "training_run_enqueue", lambda run_id: None)
    data = {
        k: v
        for k, v in {**TrainConfig.defaults(), "base_model": str(tiny_model_dir)}.items()
        if v is not False
    }
    data.update(lora_target_modules="q_proj, v_proj", max_seq_len=64, batch_size=2)
    client.force_login(owner)
    url = f"/versions/{gsm_version.pk}/train/"
    bad = client.post(url, {**data, "eval_suites": ["999999"], "launch": "1"})
    assert bad.status_code == 400 and not TrainingRun.objects.exists()
    launched = client.post(url, {**data, "eval_suites": [str(suite.pk)], "launch": "1"})
    run = TrainingRun.objects.get()
    assert launched.status_code == 302 and launched["Location"] == f"/runs/{run.pk}/"
    assert [a.suite_id for a in AutoEval.objects.filter(training_run=run)] == [suite.pk]
    assert "eval_suites" not in run.config
