"""Where import files live on disk. Names are generated here; user-supplied names never become
paths. Every path is checked to stay inside its folder."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

from django.conf import settings

UPLOADS = "uploads"
STAGING = "staging"
REPORTS = "reports"


def folder(kind: str) -> Path:
    path = Path(settings.DATA_DIR) / kind
    path.mkdir(parents=True, exist_ok=True)
    return path


def new_name() -> str:
    return uuid.uuid4().hex


def path_for(kind: str, name: str, suffix: str = "") -> Path:
    base = folder(kind).resolve()
    path = (base / f"{name}{suffix}").resolve()
    if path.parent != base:
        raise ValueError("path escapes its folder")
    return path


def fsync_file(path: Path) -> None:
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


def remove_quietly(*paths: Path) -> None:
    for path in paths:
        try:
            path.unlink()
        except FileNotFoundError:
            pass
