"""Merged weights: asked for in the launch payload, saved next to the adapter, listed in the
manifest with their sha256, offered on the model page and downloadable through the API."""

import hashlib

import pytest

from training.models import ModelArtifact, RunStatus
from training.services import execute, runs

pytestmark = pytest.mark.django_db


@pytest.fixture
def launch(api_for, owner, version, training_settings, tiny_model_dir, tiny_hyperparameters, monkeypatch):  # fmt: skip
    monkeypatch.setattr(runs, "training_run_enqueue", lambda run_id: None)
    monkeypatch.setattr(execute, "model_evaluate_enqueue", lambda model_id: None)

    def make(method="lora", **overrides):
        body = {
            "base_model": str(tiny_model_dir),
            "method": method,
            "hyperparameters": {**tiny_hyperparameters, "epochs": 1, **overrides},
        }
        return api_for(owner).post(
            f"/api/v1/versions/{version.pk}/training-runs/", body, format="json"
        )

    return make


def test_it_trains_and_serves_merged_weights_when_asked(launch, api_for, client, owner):
    response = launch(merge_weights=True)
    assert response.status_code == 201, response.content
    execute.training_run_execute(run_id=response.json()["id"])
    model = ModelArtifact.objects.get(run_id=response.json()["id"])
    assert model.run.status == RunStatus.SUCCEEDED
    digest = model.manifest["files"]["merged/model.safetensors"]

    download = api_for(owner).get(
        f"/api/v1/models/{model.pk}/download/", {"file": "merged/model.safetensors"}
    )
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith("attachment;")
    assert f"model-{model.pk}-merged-model.safetensors" in download["Content-Disposition"]
    assert hashlib.sha256(b"".join(download.streaming_content)).hexdigest() == digest

    client.force_login(owner)
    page = client.get(f"/models/{model.pk}/").content.decode()
    assert 'id="merged-download"' in page and "?file=merged/model.safetensors" in page
    assert 'id="gguf-download"' in page and "?file=model.gguf" in page
    gguf = api_for(owner).get(f"/api/v1/models/{model.pk}/download/", {"file": "model.gguf"})
    assert gguf.status_code == 200
    assert b"".join(gguf.streaming_content)[:4] == b"GGUF"


def test_it_says_how_to_merge_when_the_run_did_not(launch, client, owner):
    response = launch()
    execute.training_run_execute(run_id=response.json()["id"])
    model = ModelArtifact.objects.get(run_id=response.json()["id"])
    assert not any(name.startswith("merged/") for name in model.manifest["files"])
    client.force_login(owner)
    page = client.get(f"/models/{model.pk}/").content.decode()
    assert 'id="merged-download"' not in page and "merge_and_unload()" in page
    assert 'id="gguf-download"' not in page


def test_it_refuses_merging_a_full_fine_tune_with_the_field_named(launch):
    response = launch(method="full", merge_weights=True)
    assert response.status_code == 400
    assert "merge_weights" in response.content.decode()
