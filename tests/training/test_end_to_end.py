"""The bundled real base model (SmolLM2-135M-Instruct, converted from its GGUF file on first use)
trained for two steps on CPU through the API and the task (eager here), evaluated, with lineage."""

import pytest

from training.models import ModelArtifact, TrainingRun
from training.recipe import artifacts
from training.recipe.config import BUNDLED_BASE_MODEL
from training.services.base_models import models_dir

pytestmark = pytest.mark.django_db


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_it_trains_the_bundled_model_through_the_api(
    api_for, owner, version, training_settings, django_capture_on_commit_callbacks
):
    client = api_for(owner)
    payload = {
        "hyperparameters": {"max_steps": 2, "batch_size": 2, "max_seq_len": 128, "eval_interval": 0}
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/api/v1/versions/{version.pk}/training-runs/", payload, format="json"
        )
    assert response.status_code == 201, response.json()
    run = TrainingRun.objects.get(pk=response.json()["id"])
    assert run.status == "succeeded", run.failure_reason
    assert run.base_model == BUNDLED_BASE_MODEL and run.step == 2
    assert run.metrics[-1]["loss"] > 0

    body = client.get(f"/api/v1/training-runs/{run.pk}/").json()
    model = ModelArtifact.objects.get(pk=body["model"])
    assert artifacts.verify(models_dir() / model.path)
    lineage = client.get(f"/api/v1/models/{model.pk}/").json()
    assert lineage["lineage"]["dataset_version"] == version.pk
    assert lineage["lineage"]["dataset_version_hash"] == version.content_hash
    assert lineage["eval_status"] == "done", lineage["eval_error"]
    assert lineage["eval_results"]["split"] == "test"
    assert lineage["eval_results"]["finetuned"]["tokens"] > 0
    assert model.manifest["base_model"] == BUNDLED_BASE_MODEL
