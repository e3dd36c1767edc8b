"""DPO and ORPO runs in the app: launched through the API on a version of preference pairs,
refused with a clear 400 on a version without pairs, trained by the worker on CPU with the tiny
model, the reward metrics on the run and the lineage naming the preference version and hash."""

import pytest

from training.models import ModelArtifact, RunStatus, TrainingRun
from training.services import execute, runs

pytestmark = pytest.mark.django_db

SPLITS = ["train"] * 8 + ["validation"] * 2


def pair(i):
    a, b = i + 2, 3 * i + 1
    return (
        [
            {"role": "user", "content": f"What is {a} + {b}?"},
            {"role": "assistant", "content": f"{a} plus {b} is {a + b}."},
        ],
        {"rejected": [{"role": "assistant", "content": f"No idea, maybe {a * b + 7}?"}]},
    )


@pytest.fixture
def pair_version(make_example, owner, dataset):
    from datasets_app.services.versions import dataset_version_freeze

    for i, split in enumerate(SPLITS):
        messages, metadata = pair(i)
        make_example(dataset, owner, messages, metadata=metadata, split=split)
    return dataset_version_freeze(user=owner, dataset=dataset, name="pairs")


def url(version):
    return f"/api/v1/versions/{version.pk}/training-runs/"


def test_it_refuses_dpo_on_a_version_without_pairs(api_for, owner, version, training_settings):
    response = api_for(owner).post(url(version), {"method": "dpo"}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert "preference pairs" in str(body) and "metadata.rejected" in str(body)
    assert body["errors"][0]["path"] == "method"
    assert not TrainingRun.objects.exists()


def test_it_refuses_a_bad_dpo_setting_naming_the_field(
    api_for, owner, pair_version, training_settings
):
    payload = {"method": "dpo", "hyperparameters": {"dpo_loss_type": "hinge"}}
    response = api_for(owner).post(url(pair_version), payload, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["path"] == "hyperparameters.dpo_loss_type"


@pytest.mark.parametrize("method", ["dpo", "orpo"])
def test_it_trains_a_preference_run_and_records_its_lineage(
    method, api_for, owner, pair_version, training_settings, tiny_model_dir, monkeypatch
):
    monkeypatch.setattr(runs, "training_run_enqueue", lambda run_id: None)
    monkeypatch.setattr(execute, "model_evaluate_enqueue", lambda model_id: None)
    payload = {
        "method": method,
        "base_model": str(tiny_model_dir),
        "hyperparameters": {
            "epochs": 2,
            "batch_size": 4,
            "max_seq_len": 64,
            "learning_rate": 0.005,
            "eval_interval": 2,
            "checkpoint_interval": 0,
            "lora_r": 4,
            "lora_alpha": 8,
            "dpo_beta": 0.5,
        },
    }
    response = api_for(owner).post(url(pair_version), payload, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["method"] == method
    run = TrainingRun.objects.get(pk=response.json()["id"])
    execute.training_run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED, run.failure_reason
    assert run.plan["pairs"] == 8 and run.total_steps == 4
    assert {"reward_accuracy", "reward_margin", "rewards_chosen"} <= set(run.metrics[-1])
    assert run.evals and "eval_reward_accuracy" in run.evals[-1]
    model = ModelArtifact.objects.get(run=run)
    assert model.manifest["method"] == method
    assert model.manifest["lineage"]["dataset_version_id"] == pair_version.pk
    assert model.manifest["lineage"]["dataset_version_hash"] == pair_version.content_hash
    assert pair_version.content_hash in model.model_card
