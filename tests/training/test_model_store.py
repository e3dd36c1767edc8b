"""A finished model goes to object storage before its row is recorded, and a machine without the
training worker's folder downloads it through the store (docs/deployment.md, "Storage")."""

from __future__ import annotations

import hashlib
import shutil

import pytest

from finetunedb import storage
from training.models import ModelArtifact, RunStatus, TrainingRun
from training.services import execute, model_store, runs


@pytest.fixture
def train(owner, version, training_settings, tiny_model_dir, tiny_hyperparameters, monkeypatch):
    monkeypatch.setattr(runs, "training_run_enqueue", lambda run_id: None)
    monkeypatch.setattr(execute, "model_evaluate_enqueue", lambda model_id: None)

    def run_one():
        run = runs.training_run_create(
            user=owner,
            version=version,
            base_model=str(tiny_model_dir),
            hyperparameters={**tiny_hyperparameters, "epochs": 1},
        )
        execute.training_run_execute(run_id=run.pk)
        return TrainingRun.objects.get(pk=run.pk)

    return run_one


def test_it_downloads_a_model_trained_on_another_machine(
    s3_storage, train, api_for, owner, settings, tmp_path
):
    client, bucket = s3_storage
    run = train()
    model = ModelArtifact.objects.get(run=run)
    key = model_store.model_key(team_id=run.version.dataset.team_id, run_id=run.pk)
    assert client.head_object(Bucket=bucket, Key=f"{key}/manifest.json")
    # The web machine: its own, empty models folder; only the store is shared.
    shutil.rmtree(settings.FINETUNEDB_MODELS_DIR)
    settings.FINETUNEDB_MODELS_DIR = tmp_path / "web-models"
    response = api_for(owner).get(f"/api/v1/models/{model.pk}/download/")
    assert response.status_code == 200
    body = b"".join(response.streaming_content)
    assert hashlib.sha256(body).hexdigest() == model.weights_sha256


def test_it_records_no_model_when_the_upload_is_cut_off(s3_storage, train, monkeypatch):
    real_put = storage.file_put
    calls = []

    def put_then_die(*, key, content):
        calls.append(key)
        if len(calls) == 3:
            raise ConnectionError("upload cut off")
        return real_put(key=key, content=content)

    monkeypatch.setattr(storage, "file_put", put_then_die)
    try:
        run = train()
    except ConnectionError:
        run = TrainingRun.objects.latest("pk")
    assert not ModelArtifact.objects.filter(run=run).exists()
    assert run.status != RunStatus.SUCCEEDED
    key = model_store.model_key(team_id=run.version.dataset.team_id, run_id=run.pk)
    with pytest.raises(storage.StoredFileMissing, match="did not finish"):
        storage.folder_manifest(key)


def test_it_keeps_the_local_folder_only_with_the_default_storage(train, settings):
    run = train()
    model = ModelArtifact.objects.get(run=run)
    assert model_store.model_folder(model) == settings.FINETUNEDB_MODELS_DIR / model.path
    assert not (settings.MEDIA_ROOT / "teams").exists()


def test_it_hides_another_teams_model(s3_storage, train, api_for, outsider):
    run = train()
    model = ModelArtifact.objects.get(run=run)
    response = api_for(outsider).get(f"/api/v1/models/{model.pk}/download/")
    assert response.status_code == 404


@pytest.mark.parametrize("store", ["local", "s3"])
def test_it_counts_a_published_model_as_the_store_holds_it(
    store, request, train, api_for, owner, settings, tmp_path
):
    from finetunedb.teams.quota import team_storage_usage
    from finetunedb.teams.storage_usage import folder_bytes

    if store == "s3":
        request.getfixturevalue("s3_storage")
    run = train()
    model = ModelArtifact.objects.get(run=run)
    team = run.version.dataset.team_id
    saved = folder_bytes(settings.FINETUNEDB_MODELS_DIR / model.path)  # on the training machine
    assert saved > 0 and model.size_bytes == saved
    assert team_storage_usage(team_id=team).models == saved
    if store == "local":
        return
    manifest = storage.folder_manifest(model_store.model_key(team_id=team, run_id=run.pk))
    assert sum(entry["size"] for entry in manifest["files"]) == saved
    # The web machine: a models folder of its own, empty until a download caches the model there.
    settings.FINETUNEDB_MODELS_DIR = tmp_path / "web-models"
    assert team_storage_usage(team_id=team).models == saved
    response = api_for(owner).get(f"/api/v1/models/{model.pk}/download/")
    assert response.status_code == 200
    b"".join(response.streaming_content)
    assert folder_bytes(tmp_path / "web-models" / "cache") >= saved
    assert team_storage_usage(team_id=team).models == saved


def test_it_measures_a_model_published_before_sizes_were_recorded_on_disk(train, settings):
    from finetunedb.teams.quota import team_storage_usage
    from finetunedb.teams.storage_usage import folder_bytes

    run = train()
    ModelArtifact.objects.filter(run=run).update(size_bytes=None)
    on_disk = folder_bytes(settings.FINETUNEDB_MODELS_DIR / "runs" / str(run.pk))
    assert on_disk > 0
    assert team_storage_usage(team_id=run.version.dataset.team_id).models == on_disk
