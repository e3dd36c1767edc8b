"""A finished model's folder in object storage (finetunedb/storage.py), for workers on other
machines. The training worker publishes ``runs/<id>/model`` atomically before the artifact row is
recorded; readers on any machine ask ``model_folder`` for a local copy (the training machine's
own folder when it is there, else a copy fetched into a cache keyed by the publish token).
Checkpoints stay on the training machine's disk. With the local-folder default nothing is copied.
"""

from __future__ import annotations

from pathlib import Path

from finetunedb import storage
from finetunedb.teams.storage_usage import folder_bytes

from ..models import ModelArtifact, RunStatus, TrainingRun
from .base_models import model_relative_path, models_dir


def model_key(*, team_id: int, run_id: int) -> str:
    return storage.key_for(team_id=team_id, kind=storage.MODELS, name=f"run-{int(run_id)}")


def model_store_publish(*, run: TrainingRun) -> dict | None:
    """Upload the run's saved model folder (all files, then the manifest); None when the
    storage is this machine's disk, where the folder already is the model."""
    if not storage.remote():
        return None
    return storage.folder_publish(
        source=models_dir() / model_relative_path(run.pk),
        key=model_key(team_id=run.version.dataset.team_id, run_id=run.pk),
    )


def model_stored_bytes(*, run: TrainingRun, published: dict | None) -> int:
    """Bytes the store holds for the run's model (recorded on its row for the team's storage
    usage): the files the published manifest names, or with the local-folder default the saved
    folder itself, the same files, so the same figure either way."""
    if published is not None:
        return sum(int(entry["size"]) for entry in published["files"])
    return folder_bytes(models_dir() / model_relative_path(run.pk))


def model_folder(model: ModelArtifact) -> Path:
    """A local folder holding ``model``'s files."""
    local = models_dir() / model.path
    if local.is_dir() or not storage.remote():
        return local
    run = model.run
    return storage.folder_fetch(
        key=model_key(team_id=run.version.dataset.team_id, run_id=run.pk),
        cache_dir=models_dir() / "cache",
    )


def models_referenced(policy):
    """finetunedb.storage_cleanup: a model folder stays while its model row exists, and while its
    run is queued or running (a worker publishes before it records the row)."""
    team = "version__dataset__team_id"
    recorded = ModelArtifact.objects.values_list(f"run__{team}", "run_id")
    active = TrainingRun.objects.filter(status__in=(RunStatus.QUEUED, RunStatus.RUNNING))
    rows = [*recorded, *active.values_list(team, "pk")]
    keep = {model_key(team_id=team_id, run_id=run_id) for team_id, run_id in rows}
    return keep.__contains__
