"""SFT → DPO in the app: a DPO run starts from the team's SFT model; the lineage (API and model
page) names the parent model, the SFT version and the preference version; another team's model
is a 404, a parent still training a 409, a chained SFT run a 400."""

import pytest

from serving.selectors import served_model_for_artifact
from tests.factories import DatasetFactory
from tests.training.test_preference_runs import SPLITS, pair
from training.models import ModelArtifact, RunStatus, TrainingRun
from training.services import execute, runs

pytestmark = pytest.mark.django_db

HYPER = {"epochs": 1, "batch_size": 4, "max_seq_len": 64, "lora_r": 4, "lora_alpha": 8,
         "checkpoint_interval": 0, "eval_interval": 0}  # fmt: skip


@pytest.fixture
def pairs_version(make_example, owner, team):
    from datasets_app.services.versions import dataset_version_freeze

    prefs = DatasetFactory(team=team, name="prefs", created_by=owner)
    for i, split in enumerate(SPLITS):
        messages, metadata = pair(i)
        make_example(prefs, owner, messages, metadata=metadata, split=split)
    return dataset_version_freeze(user=owner, dataset=prefs, name="pairs")


@pytest.fixture
def quiet(monkeypatch):
    monkeypatch.setattr(runs, "training_run_enqueue", lambda run_id: None)
    monkeypatch.setattr(execute, "model_evaluate_enqueue", lambda model_id: None)


def launch(client, version, body):
    return client.post(f"/api/v1/versions/{version.pk}/training-runs/", body, format="json")


def test_it_chains_dpo_on_an_sft_model_and_records_both_versions(
    api_for, owner, version, pairs_version, training_settings, tiny_model_dir, quiet, client
):
    api = api_for(owner)
    sft = launch(api, version, {"base_model": str(tiny_model_dir), "hyperparameters": HYPER})
    assert sft.status_code == 201, sft.json()
    execute.training_run_execute(run_id=sft.json()["id"])
    parent = ModelArtifact.objects.get(run_id=sft.json()["id"])

    # base_model left out: the parent's
    body = {"method": "dpo", "start_from_model": parent.pk, "hyperparameters": HYPER}
    response = launch(api, pairs_version, body)
    assert response.status_code == 201, response.json()
    assert response.json()["parent_model"] == parent.pk
    run = TrainingRun.objects.get(pk=response.json()["id"])
    assert run.base_model == str(tiny_model_dir) and run.config["merge_weights"] is True
    execute.training_run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED, run.failure_reason
    model = ModelArtifact.objects.get(run=run)
    lineage = api.get(f"/api/v1/models/{model.pk}/").json()["lineage"]
    assert lineage["dataset_version"] == pairs_version.pk
    assert lineage["dataset_version_hash"] == pairs_version.content_hash
    assert lineage["parent_model"] == parent.pk and lineage["parent_method"] == "lora"
    assert lineage["parent_dataset_version"] == version.pk
    assert lineage["parent_dataset_version_hash"] == version.content_hash
    manifest = model.manifest["lineage"]
    assert manifest["parent_model_id"] == parent.pk
    assert manifest["parent_dataset_version_hash"] == version.content_hash
    assert manifest["start_from"] == f"../../{parent.run_id}/model"
    client.force_login(owner)
    page = client.get(f"/models/{model.pk}/").content.decode()
    assert 'data-lineage="parent"' in page and version.content_hash in page
    assert pairs_version.content_hash in page
    served = served_model_for_artifact(model)  # the merged weights: SFT + DPO on the base
    assert served.adapter is None and served.base.endswith("/merged")


def test_it_refuses_a_parent_it_cannot_start_from(
    api_for, owner, outsider, version, pairs_version, other_dataset, make_example, quiet,
    training_settings, tiny_model_dir,
):  # fmt: skip
    from datasets_app.services.versions import dataset_version_freeze
    from tests.training.conftest import chat

    api = api_for(owner)
    for i in range(3):
        make_example(other_dataset, outsider, chat(i), split="train")
    other_version = dataset_version_freeze(user=outsider, dataset=other_dataset, name="theirs")
    theirs = TrainingRun.objects.create(
        version=other_version, dataset_version_hash=other_version.content_hash,
        base_model=str(tiny_model_dir), config={}, status="succeeded",
    )  # fmt: skip
    their_model = ModelArtifact.objects.create(run=theirs, path="runs/x/model", weights_sha256="0")
    body = {"method": "dpo", "hyperparameters": HYPER}
    assert (
        launch(api, pairs_version, {**body, "start_from_model": their_model.pk}).status_code == 404
    )
    assert launch(api, pairs_version, {**body, "start_from_run": theirs.pk}).status_code == 404
    training = TrainingRun.objects.create(
        version=version, dataset_version_hash=version.content_hash,
        base_model=str(tiny_model_dir), config={}, status="running",
    )  # fmt: skip
    still = launch(api, pairs_version, {**body, "start_from_run": training.pk})
    assert still.status_code == 409 and "still running" in str(still.json())
    TrainingRun.objects.filter(pk=training.pk).update(status="succeeded")
    ours = ModelArtifact.objects.create(run=training, path="runs/y/model", weights_sha256="0")
    sft = launch(api, version, {"start_from_model": ours.pk, "hyperparameters": HYPER})
    assert sft.status_code == 400 and sft.json()["errors"][0]["path"] == "start_from_model"
    other_base = launch(
        api, pairs_version, {**body, "start_from_model": ours.pk, "base_model": "bundled:x"}
    )
    assert other_base.status_code == 400
    assert TrainingRun.objects.filter(version=pairs_version).count() == 0
