"""The one home for stored files: uploads, error reports, exports, model folders and embedding
matrices go through Django's ``default`` storage (local folder or an S3-compatible store, see
finetunedb/storage_config.py), so a worker on another machine reads and writes the same objects.

Keys are built here from ids the app generated (``key_for``); user input never becomes a key.

A folder (a finished model, an embeddings matrix with its index) is published atomically: its
files go under ``<key>/<token>/`` first, then one small ``<key>/manifest.json`` is written in a
single PUT (or a rename on a local disk) naming the token and every file's size and sha256. Readers
go through the manifest only, so a publish cut off half way leaves files nobody points at, never a
half model. ``folder_fetch`` copies a published folder into a local cache keyed by its token and
checks every hash before the folder appears there (the rename happens last).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import IO

from django.conf import settings
from django.core.files.base import ContentFile, File
from django.core.files.storage import storages

from . import storage_fetch
from .storage_fetch import (  # noqa: F401 - the app's names for them
    CORRUPT,
    MISSING,
    NOT_PUBLISHED,
    StoredFileCorrupt,
    StoredFileMissing,
)

MANIFEST = "manifest.json"
MANIFEST_FORMAT = 1
CHUNK = 1 << 20

UPLOADS = "uploads"
REPORTS = "reports"
EXPORTS = "exports"
MODELS = "models"
EMBEDDINGS = "embeddings"
KINDS = (UPLOADS, REPORTS, EXPORTS, MODELS, EMBEDDINGS)

BAD_KIND = "unknown storage kind {kind!r}; one of " + ", ".join(KINDS)
BAD_NAME = "storage name {name!r}: only letters, digits, '-', '_' and '.' (no leading '.')"

_NAME = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,199}$")


def _storage():
    return storages["default"]


def key_for(*, team_id: int, kind: str, name: str) -> str:
    """``teams/<team_id>/<kind>/<name>``: every object sits under its team's prefix.

    >>> key_for(team_id=3, kind="models", name="run-12")
    'teams/3/models/run-12'
    """
    if kind not in KINDS:
        raise ValueError(BAD_KIND.format(kind=kind))
    if not _NAME.match(name) or ".." in name:
        raise ValueError(BAD_NAME.format(name=name))
    return f"teams/{int(team_id)}/{kind}/{name}"


def file_put(*, key: str, content: bytes | IO[bytes]) -> str:
    """Store ``content`` under exactly ``key``, replacing what was there; readers see the old
    object or the new one, never a part (one PUT on S3, a rename on a local disk)."""
    storage = _storage()
    body = ContentFile(content) if isinstance(content, bytes) else File(content)
    local = _local_path(storage, key)
    if local is None:
        saved = storage.save(key, body)
        if saved != key:  # file_overwrite off on a hand-made backend: never keep a renamed twin
            storage.delete(saved)
            raise RuntimeError(f"storage renamed {key!r} to {saved!r}: set file_overwrite")
        return key
    local.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=local.parent, prefix=".partial-")
    try:
        with os.fdopen(fd, "wb") as handle:
            for chunk in body.chunks(CHUNK):
                handle.write(chunk)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, local)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return key


def file_open(key: str) -> IO[bytes]:
    """The stored object for reading; ``StoredFileMissing`` with a clear message if absent."""
    storage = _storage()
    try:
        if not storage.exists(key):
            raise StoredFileMissing(MISSING.format(key=key))
        return storage.open(key, "rb")
    except FileNotFoundError as error:
        raise StoredFileMissing(MISSING.format(key=key)) from error


def file_fetch(*, key: str, destination: Path) -> Path:
    """Copy one stored object to ``destination`` (written beside it, renamed when complete)."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=destination.parent, prefix=".partial-")
    try:
        with file_open(key) as source, os.fdopen(fd, "wb") as handle:
            shutil.copyfileobj(source, handle, CHUNK)
        os.replace(tmp, destination)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return destination


def file_delete(key: str) -> None:
    storage = _storage()
    storage.delete(key)
    local = _local_path(storage, key)
    if local is not None:  # no empty folders left behind on a local disk, up to the root
        root = Path(storage.path("")).resolve()
        for parent in local.parents:
            if parent.resolve() == root or not parent.is_relative_to(root):
                break
            try:
                parent.rmdir()
            except OSError:
                break


def objects_list(prefix: str) -> list[tuple[str, int, float]]:
    """(key, bytes, modified as a POSIX timestamp) of every stored object under ``prefix``
    (``teams/`` for all), in key order: one paged listing on S3, a walk on a local disk."""
    storage = _storage()
    prefix = prefix.rstrip("/") + "/"
    local = _local_path(storage, prefix)
    found = []
    if local is None:
        location = str(getattr(storage, "location", "") or "").strip("/")
        head = f"{location}/" if location else ""
        for summary in storage.bucket.objects.filter(Prefix=head + prefix):
            key = summary.key[len(head) :]
            found.append((key, summary.size, summary.last_modified.timestamp()))
        return sorted(found)
    root = Path(storage.path(""))
    for folder, _dirs, files in os.walk(local):
        for name in files:
            path = Path(folder) / name
            try:
                stat = path.stat()
            except FileNotFoundError:
                continue  # removed while listed
            found.append((path.relative_to(root).as_posix(), stat.st_size, stat.st_mtime))
    return sorted(found)


def folder_publish(*, source: Path, key: str) -> dict:
    """Upload every file under ``source`` to ``key`` and return the manifest written last."""
    token = uuid.uuid4().hex
    files = []
    for path in sorted(p for p in Path(source).rglob("*") if p.is_file()):
        relative = path.relative_to(source).as_posix()
        digest = hashlib.sha256()
        with open(path, "rb") as handle:
            for chunk in iter(lambda: handle.read(CHUNK), b""):
                digest.update(chunk)
        with open(path, "rb") as handle:
            file_put(key=f"{key}/{token}/{relative}", content=handle)
        files.append({"path": relative, "size": path.stat().st_size, "sha256": digest.hexdigest()})
    manifest = {"format": MANIFEST_FORMAT, "token": token, "files": files}
    file_put(key=f"{key}/{MANIFEST}", content=json.dumps(manifest, sort_keys=True).encode())
    return manifest


def folder_manifest(key: str) -> dict:
    return storage_fetch.manifest_read(file_open, key)


def folder_fetch(*, key: str, cache_dir: Path) -> Path:
    """The published folder at ``key`` as a local folder under ``cache_dir``, keyed by its
    publish token (a re-published folder gets a fresh copy), reused when already fetched; the
    cache is then kept under FINETUNEDB_FETCH_CACHE_BYTES (least recently used entries not in
    use go first, finetunedb/storage_fetch.py)."""
    return storage_fetch.folder_fetch(
        open_key=file_open,
        key=key,
        cache_dir=Path(cache_dir),
        budget_bytes=settings.FINETUNEDB_FETCH_CACHE_BYTES,
    )


def remote() -> bool:
    """Whether the default storage is not this machine's disk (an S3-compatible store)."""
    return _local_path(_storage(), "probe") is None


def _local_path(storage, key: str) -> Path | None:
    try:
        return Path(storage.path(key))
    except NotImplementedError:
        return None
