"""The train page's pre-flight as a job (training/services/preflight_jobs.py): it runs, lands on
the form with its figures, fails with a clear error, joins a second click, and its estimate is
reused by the launch of exactly the same version and configuration only."""

import pytest

from finetunedb.actions import services as action_services
from finetunedb.actions.models import ActionJob
from finetunedb.exceptions import ApplicationError
from training.models import TrainingRun
from training.services import preflight, preflight_jobs, runs

pytestmark = pytest.mark.django_db


@pytest.fixture
def form_data(tiny_model_dir, training_settings):
    from training.recipe.config import TrainConfig

    data = {
        k: v
        for k, v in {**TrainConfig.defaults(), "base_model": str(tiny_model_dir)}.items()
        if v is not False
    }
    data["lora_target_modules"] = "q_proj, v_proj"
    data.update(max_seq_len=64, batch_size=2)
    return data


@pytest.fixture
def page(client, owner, version):
    client.force_login(owner)
    return f"/versions/{version.pk}/train/"


def test_it_runs_the_preflight_as_a_job_and_joins_a_second_click(
    client, page, form_data, monkeypatch, django_capture_on_commit_callbacks
):
    stages = []
    real = preflight.training_preflight

    def spy(**kwargs):
        stages.append(action_services.action_job_status(ActionJob.objects.get())["stage"])
        return real(**kwargs)

    monkeypatch.setattr(preflight, "training_preflight", spy)
    with django_capture_on_commit_callbacks(execute=True):
        first = client.post(page, {**form_data, "preflight": "1"})
        second = client.post(page, {**form_data, "preflight": "1"})
    assert first["Location"] == second["Location"] and ActionJob.objects.count() == 1
    assert len(stages) == 1 and stages[0].startswith("Tokenizing ")
    job = ActionJob.objects.get()
    assert job.status == "succeeded" and job.result["tokens"] > 0
    assert "csrfmiddlewaretoken" not in job.params["form"]
    shown = client.get(first["Location"], follow=True)
    assert shown.redirect_chain == [(f"{page}?preflight={job.pk}", 302)]
    assert b"Trained tokens per epoch" in shown.content


def test_it_shows_why_a_preflight_failed(
    client, page, form_data, monkeypatch, django_capture_on_commit_callbacks
):
    def refuse(**kwargs):
        raise ApplicationError(
            "The base model cannot be used: its chat template is missing.",
            errors=[{"path": "base_model", "message": "no chat template"}],
        )

    monkeypatch.setattr(preflight, "training_preflight", refuse)
    with django_capture_on_commit_callbacks(execute=True):
        queued = client.post(page, {**form_data, "preflight": "1"})
    html = client.get(queued["Location"]).content.decode()
    assert "its chat template is missing" in html and "no chat template" in html
    assert f'href="{page}"' in html


def test_it_refuses_a_bad_configuration_on_the_form(client, page, form_data):
    response = client.post(page, {**form_data, "lora_r": 0, "preflight": "1"})
    assert response.status_code == 400 and b"lora_r: 0 is out of range" in response.content
    assert not ActionJob.objects.exists()


def test_it_reuses_an_estimate_only_for_the_same_configuration(
    client, page, form_data, monkeypatch, settings, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(runs, "training_run_enqueue", lambda run_id: None)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(page, {**form_data, "preflight": "1"})
    settings.FINETUNEDB_TRAINING_MAX_MEMORY_BYTES = 1024  # the pre-flight's estimate is over it

    other = client.post(page, {**form_data, "max_seq_len": 48, "launch": "1"})
    same = client.post(page, {**form_data, "launch": "1"})

    # Another configuration has no estimate yet: queued, the worker checks it (nothing is
    # tokenized in the request); the one the pre-flight checked is refused at once.
    assert other.status_code == 302 and TrainingRun.objects.count() == 1
    assert same.status_code == 400 and b"does not fit the training worker" in same.content


def test_it_never_tokenizes_in_the_launch_request(
    api_for, owner, version, client, page, form_data, tiny_model_dir, monkeypatch
):
    """Tokenizing a large version takes seconds: a launch (page or API) without a pre-flight
    queues the run (201, as before) and the worker checks its budget when it takes it."""
    monkeypatch.setattr(runs, "training_run_enqueue", lambda run_id: None)

    def tokenize(*args, **kwargs):
        raise AssertionError("the launch request tokenized the version")

    monkeypatch.setattr(preflight, "_report", tokenize)
    monkeypatch.setattr(preflight, "encode_records", tokenize)

    launched = client.post(page, {**form_data, "launch": "1"})
    body = {"base_model": str(tiny_model_dir), "hyperparameters": {"max_seq_len": 64}}
    api = api_for(owner).post(f"/api/v1/versions/{version.pk}/training-runs/", body, format="json")

    assert launched.status_code == 302 and launched["Location"].startswith("/runs/")
    assert api.status_code == 201, api.json()
    assert set(TrainingRun.objects.values_list("status", flat=True)) == {"queued"}


def test_it_does_not_reuse_an_estimate_of_another_version(version, make_version, dataset):
    other, _ = make_version(dataset)
    config = runs.training_config_build(base_model=None, method=None, hyperparameters={})
    assert preflight_jobs.preflight_key(version, config) != preflight_jobs.preflight_key(
        other, config
    )
    assert preflight_jobs.preflight_estimate_cached(version=version, config=config) is None
