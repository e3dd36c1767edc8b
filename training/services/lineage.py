"""The lineage of a model, built in one place: model → run → dataset version (id, number, hash)
→ dataset.

Two namings of the same record exist and both are public: the API's (``lineage`` of
``/api/v1/models/{id}/`` and each side of ``…/compare/``) and the model manifest's (written into
``manifest.json`` and the model card at save time, before the model row exists). Both come from
:func:`model_lineage`; neither loses a key it ever had (DESIGN §6 is a public contract).
"""

from __future__ import annotations

from typing import Literal

from ..models import TrainingRun

# An SFT → DPO run's parent, under the manifest's naming.
PARENT_MANIFEST_KEYS = {
    "parent_model": "parent_model_id",
    "parent_training_run": "parent_training_run_id",
    "parent_dataset_version": "parent_dataset_version_id",
}
# API key -> manifest key, for the fields the manifest carries.
MANIFEST_KEYS = {
    "dataset_version": "dataset_version_id",
    "dataset_version_hash": "dataset_version_hash",
    "dataset": "dataset_id",
    "training_run": "training_run_id",
}


def model_lineage(
    run: TrainingRun,
    *,
    model_id: int | None = None,
    version_hash: str | None = None,
    shape: Literal["api", "manifest"] = "api",
) -> dict:
    """The lineage of ``run``'s model. ``version_hash`` is the hash the worker recomputed (the
    manifest records what was trained on); the API reports the hash checked at launch.

    >>> model_lineage(run, model_id=3)  # doctest: +SKIP
    {"model": 3, "training_run": 12, "dataset_version": 7, "dataset_version_number": 2,
     "dataset_version_hash": "9f…", "dataset": 4}
    """
    version = run.version
    api = {
        "model": model_id,
        "training_run": run.pk,
        "dataset_version": run.version_id,
        "dataset_version_number": version.number,
        "dataset_version_hash": version_hash or run.dataset_version_hash,
        "dataset": version.dataset_id,
    }
    parent = _parent(run)
    if shape == "api":
        return {**api, **parent}
    manifest = {new: api[old] for old, new in MANIFEST_KEYS.items()}
    manifest["dataset_version_number"] = version.number
    manifest["dataset_version_name"] = version.name
    manifest["dataset_name"] = version.dataset.name
    manifest["name"] = f"{version.dataset.name} v{version.number} · run {run.pk}"
    manifest.update({PARENT_MANIFEST_KEYS.get(k, k): v for k, v in parent.items()})
    return manifest


def _parent(run: TrainingRun) -> dict:
    """An SFT → DPO run's parent: the model it started from and that model's (SFT) version."""
    if not run.parent_model_id:
        return {}
    parent = run.parent_model
    parent_run = parent.run
    return {
        "parent_model": parent.pk,
        "parent_training_run": parent_run.pk,
        "parent_method": parent_run.method,
        "parent_dataset_version": parent_run.version_id,
        "parent_dataset_version_number": parent_run.version.number,
        "parent_dataset_version_hash": parent_run.dataset_version_hash,
    }
