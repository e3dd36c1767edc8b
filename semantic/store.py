"""One dataset's embeddings on disk: a float16 ``.npy`` matrix and its index (revision id and
example id of each row), published together. No Django.

Layout of a dataset's folder::

    current.json            {"generation": "<hex>", "count": N, "dimension": D}
    vectors-<hex>.npy       N × D float16, unit rows
    index-<hex>.npy         N × 2 int64: (revision id, example id)

A write puts a new generation's two files in place (temp file, fsync, rename) and only then
replaces ``current.json`` (same), so a reader sees the old generation or the new one, never a mix.
The generation before the current one is kept, so a reader that read the old pointer a moment
ago can still open its files; older ones are removed.
"""

from __future__ import annotations

import json
import os
import secrets
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

POINTER = "current.json"


@dataclass(frozen=True)
class Embeddings:
    generation: str
    vectors: np.ndarray  # N × D float16 (memory-mapped)
    revisions: np.ndarray  # N int64
    examples: np.ndarray  # N int64

    @property
    def count(self) -> int:
        return len(self.revisions)


def _atomic_bytes(path: Path, write) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}-", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def embeddings_read(folder: str | os.PathLike) -> Embeddings | None:
    """The current generation, or None when the dataset was never embedded."""
    folder = Path(folder)
    try:
        pointer = json.loads((folder / POINTER).read_text())
    except FileNotFoundError:
        return None
    gen = str(pointer["generation"])
    vectors = np.load(folder / f"vectors-{gen}.npy", mmap_mode="r")
    index = np.load(folder / f"index-{gen}.npy")
    return Embeddings(gen, vectors, index[:, 0].copy(), index[:, 1].copy())


def embeddings_write(
    folder: str | os.PathLike, *, vectors: np.ndarray, revisions, examples
) -> Embeddings:
    """Publish a new generation; returns it (read back)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    vectors = np.ascontiguousarray(vectors, dtype=np.float16)
    index = np.stack(
        [np.asarray(revisions, dtype=np.int64), np.asarray(examples, dtype=np.int64)], axis=1
    ).reshape(-1, 2)
    if vectors.ndim != 2 or len(vectors) != len(index):
        raise ValueError("vectors and index must have one row per revision")
    previous = _generation(folder)
    gen = secrets.token_hex(8)
    _atomic_bytes(folder / f"vectors-{gen}.npy", lambda f: np.save(f, vectors))
    _atomic_bytes(folder / f"index-{gen}.npy", lambda f: np.save(f, index))
    pointer = {"generation": gen, "count": len(index), "dimension": int(vectors.shape[1])}
    _atomic_bytes(folder / POINTER, lambda f: f.write(json.dumps(pointer).encode()))
    keep = {gen, previous}
    for old in folder.glob("*-*.npy"):
        if old.stem.split("-", 1)[1] not in keep:
            old.unlink(missing_ok=True)
    return embeddings_read(folder)


def _generation(folder: Path) -> str | None:
    try:
        return str(json.loads((folder / POINTER).read_text())["generation"])
    except FileNotFoundError:
        return None
