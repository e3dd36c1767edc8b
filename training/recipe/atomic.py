"""Folders that appear whole or not at all: write to a temp folder, fsync, rename, mark complete."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
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
