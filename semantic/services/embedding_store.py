"""Embedding matrices in object storage (finetunedb/storage.py), for a web machine that does not
share the worker's folder: the embedding worker publishes each new generation (pointer, vectors,
index) as one atomic folder; readers fetch the published generation into a local cache keyed by
its publish token. With the local-folder default nothing is copied and the folder is read as is.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path

from django.conf import settings

from datasets_app.models import Dataset
from finetunedb import storage

from ..store import POINTER
from .embedding_models import embedding_model_key, embeddings_folder


def _key(*, team_id: int, dataset_id: int, model_name: str) -> str:
    name = f"dataset-{int(dataset_id)}-{embedding_model_key(model_name)}"
    return storage.key_for(team_id=team_id, kind=storage.EMBEDDINGS, name=name)


def embeddings_publish(*, team_id: int, dataset_id: int, model_name: str) -> None:
    """Upload the folder's current generation (its three files, pointer last in the manifest's
    commit) when the storage is not this machine's disk."""
    if not storage.remote():
        return
    folder = embeddings_folder(dataset_id=dataset_id, model_name=model_name)
    generation = json.loads((folder / POINTER).read_text())["generation"]
    names = (POINTER, f"vectors-{generation}.npy", f"index-{generation}.npy")
    with tempfile.TemporaryDirectory(dir=folder.parent) as staging:
        for name in names:
            os.link(folder / name, Path(staging) / name)
        storage.folder_publish(
            source=Path(staging),
            key=_key(team_id=team_id, dataset_id=dataset_id, model_name=model_name),
        )


def embeddings_folder_for_reading(*, dataset: Dataset, model_name: str) -> Path:
    """The folder to read ``dataset``'s embeddings from: the published generation fetched from
    the store when there is one, else this machine's own folder (which may hold none)."""
    local = embeddings_folder(dataset_id=dataset.pk, model_name=model_name)
    if not storage.remote():
        return local
    key = _key(team_id=dataset.team_id, dataset_id=dataset.pk, model_name=model_name)
    try:
        return storage.folder_fetch(key=key, cache_dir=Path(settings.DATA_DIR) / "cache-store")
    except storage.StoredFileMissing:
        return local


_DATASET_NAME = re.compile(r"^teams/(\d+)/embeddings/dataset-(\d+)-")


def embeddings_referenced(policy):
    """finetunedb.storage_cleanup: a dataset's published embeddings stay while the dataset does."""
    existing = set(Dataset.objects.values_list("team_id", "pk"))

    def referenced(key: str) -> bool:
        match = _DATASET_NAME.match(key)
        return match is None or (int(match[1]), int(match[2])) in existing

    return referenced
