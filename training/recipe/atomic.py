"""Folders that appear whole or not at all: write to a temp folder, fsync, rename, mark complete."""

from __future__ import annotations

import fcntl
import importlib.util
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

COMPLETE = "COMPLETE"


def fsync_dir(path: Path) -> None:
    """Flush a directory's entries to disk, so a rename inside it survives a power cut."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_tree(root: Path) -> None:
    """Flush every file, then every folder, under ``root`` (children before parents)."""
    for path in sorted(root.rglob("*")):
        if path.is_file():
            with open(path, "rb") as fh:
                os.fsync(fh.fileno())
    for path in sorted(p for p in root.rglob("*") if p.is_dir()):
        fsync_dir(path)
    fsync_dir(root)


@contextmanager
def atomic_directory(final: Path) -> Iterator[Path]:
    """Yield a temp folder next to ``final``; on success it is fsynced, marked and renamed.

    A crash at any point leaves either no ``final`` or a complete one (with ``COMPLETE`` inside);
    leftovers are hidden ``.tmp-*`` folders that :func:`is_complete` never accepts.
    """
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{final.name}-", dir=final.parent))
    try:
        yield tmp
        (tmp / COMPLETE).write_text("ok\n")
        fsync_tree(tmp)
        os.chmod(tmp, 0o755)  # noqa: S103 - mkdtemp makes it private; other workers read it
        if final.exists():
            shutil.rmtree(final)
        os.rename(tmp, final)
        fsync_dir(final.parent)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def is_complete(path: Path) -> bool:
    """True when ``path`` was finished by :func:`atomic_directory` (its ``COMPLETE`` marker)."""
    return (Path(path) / COMPLETE).is_file()


def installed_package_file(package: str, filename: str) -> Path | None:
    """The data file ``filename`` inside the installed ``package``, found without importing (so
    without running) the package; None when it is not installed or has no such file."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        candidate = Path(location) / filename
        if candidate.is_file():
            return candidate
    return None


def build_folder_once(
    cache_dir: str | os.PathLike, name: str, build: Callable[[Path], str], *, marker: str
) -> Path:
    """``cache_dir/name``, built on first use by ``build(tmp)`` (which fills the temp folder and
    returns the note written into ``marker``), then fsynced and renamed into place.

    Safe from several processes at once: the first builds under a file lock, the others wait on it
    and then find the marker; a half-built folder left by a killed process is replaced."""
    cache = Path(cache_dir)
    cache.mkdir(parents=True, exist_ok=True)
    target = cache / name
    if (target / marker).is_file():
        return target
    with open(cache / f".{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if (target / marker).is_file():
                return target
            tmp = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=cache))
            try:
                note = build(tmp)
                (tmp / marker).write_text(note)
                fsync_tree(tmp)
                os.chmod(tmp, 0o755)  # noqa: S103 - mkdtemp makes it private; other workers read it
                if target.exists():
                    shutil.rmtree(target)
                os.rename(tmp, target)
                fsync_dir(cache)
            finally:
                if tmp.exists():
                    shutil.rmtree(tmp, ignore_errors=True)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return target
