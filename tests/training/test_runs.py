"""Launching runs: validation with field paths, the base-model allow-list, frozen versions only,
the per-team cap, cancel."""

import pytest

from training.models import RunStatus, TrainingRun
from training.recipe.config import BUNDLED_BASE_MODEL
from training.services import runs

pytestmark = pytest.mark.django_db


def url(version):
    return f"/api/v1/versions/{version.pk}/training-runs/"


def test_it_queues_a_run_with_the_defaults(api_for, owner, version, training_settings, monkeypatch):
    queued = []
    monkeypatch.setattr(runs, "training_run_enqueue", queued.append)
    response = api_for(owner).post(url(version), {}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "queued" and body["base_model"] == BUNDLED_BASE_MODEL
    assert body["dataset_version_hash"] == version.content_hash
    assert body["config"]["lora_r"] == 16 and body["method"] == "lora"
    run = TrainingRun.objects.get(pk=body["id"])
    assert run.created_by == owner and run.version == version


@pytest.mark.parametrize(
    "payload,path",
    [
        ({"hyperparameters": {"lora_r": 0}}, "hyperparameters.lora_r"),
        ({"hyperparameters": {"epochs": 1_000_000_000}}, "hyperparameters.epochs"),
        ({"hyperparameters": {"learning_rate": "fast"}}, "hyperparameters.learning_rate"),
        ({"hyperparameters": {"overlength": "ignore"}}, "hyperparameters.overlength"),
        ({"hyperparameters": {"bogus": 1}}, "hyperparameters"),
        ({"hyperparameters": [1, 2]}, "hyperparameters"),
        ({"hyperparameters": {"base_model": "x"}}, "hyperparameters.base_model"),
        ({"method": "qlora"}, "method"),
        ({"base_model": "/etc"}, "base_model"),
        ({"base_model": "https://evil.example/model"}, "base_model"),
    ],
)
def test_it_answers_400_naming_the_field(api_for, owner, version, training_settings, payload, path):
    response = api_for(owner).post(url(version), payload, format="json")
    assert response.status_code == 400, response.json()
    assert path in [e["path"] for e in response.json()["errors"]]
    assert TrainingRun.objects.count() == 0


def test_it_refuses_a_hub_id_while_offline_and_accepts_it_online(
    api_for, owner, version, training_settings, monkeypatch
):
    monkeypatch.setattr(runs, "training_run_enqueue", lambda run_id: None)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    response = api_for(owner).post(url(version), {"base_model": "org/model"}, format="json")
    assert response.status_code == 400 and "offline" in response.json()["errors"][0]["message"]
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "0")
    response = api_for(owner).post(url(version), {"base_model": "org/model"}, format="json")
    assert response.status_code == 201


def test_it_accepts_a_registered_local_folder(
    api_for, owner, version, training_settings, tiny_model_dir, monkeypatch
):
    monkeypatch.setattr(runs, "training_run_enqueue", lambda run_id: None)
    response = api_for(owner).post(
        url(version), {"base_model": str(tiny_model_dir), "method": "full"}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["config"]["method"] == "full"


def test_it_trains_only_on_a_frozen_version(owner, version, training_settings):
    version.content_hash = ""  # an in-memory stand-in for a version still being frozen
    with pytest.raises(runs.ApplicationError, match="frozen"):
        runs.training_run_create(user=owner, version=version)


def test_it_forbids_annotators_to_launch(api_for, teammate, version, training_settings):
    assert api_for(teammate).post(url(version), {}, format="json").status_code == 403


def test_it_caps_active_runs_per_team(api_for, owner, version, training_settings, monkeypatch):
    monkeypatch.setattr(runs, "training_run_enqueue", lambda run_id: None)
    training_settings.FINETUNEDB_MAX_ACTIVE_RUNS_PER_TEAM = 1
    assert api_for(owner).post(url(version), {}, format="json").status_code == 201
    assert api_for(owner).post(url(version), {}, format="json").status_code == 409


def test_it_cancels_a_queued_run_at_once_and_a_running_one_at_its_next_step(
    api_for, owner, version, training_settings, monkeypatch
):
    monkeypatch.setattr(runs, "training_run_enqueue", lambda run_id: None)
    client = api_for(owner)
    first = client.post(url(version), {}, format="json").json()["id"]
    response = client.post(f"/api/v1/training-runs/{first}/cancel/")
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    assert client.post(f"/api/v1/training-runs/{first}/cancel/").status_code == 409

    second = client.post(url(version), {}, format="json").json()["id"]
    TrainingRun.objects.filter(pk=second).update(status=RunStatus.RUNNING)
    body = client.post(f"/api/v1/training-runs/{second}/cancel/").json()
    assert body["status"] == "running" and body["cancel_requested"] is True
