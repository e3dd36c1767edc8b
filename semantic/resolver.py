"""Which embedding model a name means, where its folder is and how it is verified: the one rule
the web app (its settings) and the serving engine (its command line) share. No Django.

A name is either the bundled model's (``all-MiniLM-L6-v2``: extracted once under
``<models dir>/embeddings``, its weights' pinned sha256 checked at every load) or a local folder
the deployment registered (FINETUNEDB_EMBEDDING_MODELS; never a user's path). Callers pass the
registered folders in, so nothing here reads settings or the environment.

>>> embedding_model_resolve("", registered=[])
'all-MiniLM-L6-v2'
>>> embedding_model_resolve("/srv/e5//", registered=["/srv/e5"])
'/srv/e5'
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from .bundled import BUNDLED_EMBEDDING_MODEL, WEIGHTS_SHA256, ensure_bundled_embedding_model
from .embedder import Embedder

UNKNOWN_MODEL = (
    "model must be {bundled!r} or a folder listed in FINETUNEDB_EMBEDDING_MODELS; "
    "{name!r} is neither."
)


class UnknownEmbeddingModel(ValueError):
    """The name is neither the bundled model nor a registered folder; the message says so."""


def embedding_model_name(name: str | None) -> str:
    """``name`` as it is stored and compared: the bundled name as is (the default when empty),
    a folder as ``str(Path(name))`` (so ``/srv/e5/`` and ``/srv/e5`` are one model)."""
    name = str(name or BUNDLED_EMBEDDING_MODEL)
    return name if name == BUNDLED_EMBEDDING_MODEL else str(Path(name))


def embedding_models_offered(registered: Iterable[str]) -> list[str]:
    """The bundled model first, then each registered folder once, in the order given."""
    names = [BUNDLED_EMBEDDING_MODEL, *(embedding_model_name(p) for p in registered)]
    return list(dict.fromkeys(names))


def embedding_model_resolve(name: str | None, *, registered: Iterable[str]) -> str:
    """``name`` normalised, or :class:`UnknownEmbeddingModel` when it is not offered."""
    name = embedding_model_name(name)
    if name not in embedding_models_offered(registered):
        raise UnknownEmbeddingModel(
            UNKNOWN_MODEL.format(bundled=BUNDLED_EMBEDDING_MODEL, name=name)
        )
    return name


def embedding_model_folder(
    name: str | None, *, models_dir: str | Path, registered: Iterable[str]
) -> tuple[Path, str | None]:
    """The folder of ``name`` and the sha256 its weights must have (None: a registered folder,
    loaded as it is). The bundled model is extracted on first use under ``models_dir``."""
    name = embedding_model_resolve(name, registered=registered)
    if name == BUNDLED_EMBEDDING_MODEL:
        return ensure_bundled_embedding_model(Path(models_dir) / "embeddings"), WEIGHTS_SHA256
    return Path(name), None


def embedding_model_load(
    name: str | None,
    *,
    models_dir: str | Path,
    registered: Iterable[str],
    device: str | None = None,
) -> Embedder:
    """The loaded model (``EmbeddingModelError`` when its files are missing, changed or
    unloadable; :class:`UnknownEmbeddingModel` when ``name`` is not offered)."""
    folder, sha256 = embedding_model_folder(name, models_dir=models_dir, registered=registered)
    return Embedder.load(folder, sha256=sha256, device=device)
