"""Fetching a published folder (finetunedb/storage.py's ``folder_publish``) into a local cache,
and keeping that cache under a size budget. No Django here: the app reads the store through
Django's storage (``storage.folder_fetch``), the serving engine on a machine of its own reads
the same bucket through boto3 with the store's configuration (:func:`opener_from_environ`,
``storage_config.storage_backend``). Both go through :func:`folder_fetch`, the one copy.

The cache: ``<cache_dir>/<key>/<token>/`` holds one published folder, complete and checked
against its manifest (sha256 of every file) before it is renamed into place; a re-published
folder gets a new token, so a new entry. Beside each entry, ``<token>.use`` is its last use (its
mtime) and its lock. Entries past the budget are removed least recently used first, never one in
use: a reader holds a shared ``flock`` on the ``.use`` file while it looks the entry up and
touches it (and for as long as it likes through :func:`folder_fetched`); the pruner takes the
lock exclusively without waiting (held: skipped), re-reads the last use under it (used within
``grace_s``: skipped, the caller of :func:`folder_fetch` holds a bare path for that long), then
renames the entry out of the way in one step before deleting it, so nobody sees half an entry.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import json
import os
import re
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import IO

MANIFEST = "manifest.json"
CHUNK = 1 << 20
USE_SUFFIX = ".use"
# A path handed out by folder_fetch stays for this long at least (longer uses: folder_fetched).
USE_GRACE_S = 600
TOKEN = re.compile(r"^[0-9a-f]{32}$")

MISSING = (
    "No stored file at {key!r}: it was never uploaded, was deleted, or the storage settings "
    "(STORAGE_URL) point somewhere else than the machine that wrote it."
)
NOT_PUBLISHED = (
    "No published folder at {key!r}: its upload did not finish (no manifest). Publish it again."
)
CORRUPT = "Stored file {key!r} does not match its manifest ({why}); publish the folder again."

Opener = Callable[[str], IO[bytes]]  # a stored key -> a readable object, or StoredFileMissing


class StoredFileMissing(FileNotFoundError):
    """The object is not in the store (or the folder was never completely published)."""


class StoredFileCorrupt(ValueError):
    """A fetched file's size or sha256 differs from what its manifest recorded."""


def manifest_read(open_key: Opener, key: str) -> dict:
    """The manifest of the folder published at ``key``; ``StoredFileMissing`` when none."""
    try:
        with contextlib.closing(open_key(f"{key}/{MANIFEST}")) as handle:
            manifest = json.loads(handle.read())
    except StoredFileMissing as error:
        raise StoredFileMissing(NOT_PUBLISHED.format(key=key)) from error
    if not isinstance(manifest, dict) or not TOKEN.match(str(manifest.get("token", ""))):
        raise StoredFileCorrupt(CORRUPT.format(key=key, why="bad token"))
    return manifest


def folder_fetch(*, open_key: Opener, key: str, cache_dir: Path, budget_bytes: int = 0) -> Path:
    """The published folder at ``key`` as a local folder under ``cache_dir``, keyed by its
    publish token (reused when already fetched); then the cache is pruned to ``budget_bytes``
    (0: unlimited). The path is safe to use for ``USE_GRACE_S``; hold :func:`folder_fetched`
    for longer."""
    with folder_fetched(
        open_key=open_key, key=key, cache_dir=cache_dir, budget_bytes=budget_bytes
    ) as path:
        return path


@contextlib.contextmanager
def folder_fetched(
    *, open_key: Opener, key: str, cache_dir: Path, budget_bytes: int = 0
) -> Iterator[Path]:
    """:func:`folder_fetch` whose entry is never pruned while the ``with`` block runs."""
    manifest = manifest_read(open_key, key)
    target = Path(cache_dir) / key / manifest["token"]
    with _use(target):
        if not target.is_dir():
            _download(open_key, key, manifest, target)
        if budget_bytes > 0:
            cache_prune(Path(cache_dir), budget_bytes=budget_bytes)
        yield target


def _download(open_key: Opener, key: str, manifest: dict, target: Path) -> None:
    token = manifest["token"]
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=".partial-"))
    try:
        for entry in _manifest_files(key, manifest):
            relative = entry["path"]
            stored = f"{key}/{token}/{relative}"
            local = staging / relative
            local.parent.mkdir(parents=True, exist_ok=True)
            with contextlib.closing(open_key(stored)) as source, open(local, "wb") as handle:
                # one byte past the recorded size shows it differs: never more on this disk
                left = entry["size"] + 1
                while left > 0 and (chunk := source.read(min(CHUNK, left))):
                    handle.write(chunk)
                    left -= len(chunk)
            _verify(stored, local, entry)
        try:
            os.rename(staging, target)
        except OSError:
            if not target.is_dir():  # another process may have fetched the same token first
                raise
            shutil.rmtree(staging, ignore_errors=True)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _manifest_files(key: str, manifest: dict) -> list[dict]:
    """The manifest's ``files``, each ``{path, size, sha256}`` with a plain relative path (no
    ``..``, ``.``, empty part or NUL), no path twice or inside another file; else
    ``StoredFileCorrupt`` naming the entry (the store's manifest is data, not trusted)."""
    files = manifest.get("files")
    if not isinstance(files, list):
        raise StoredFileCorrupt(CORRUPT.format(key=key, why="manifest has no files list"))
    seen: set[str] = set()
    for index, entry in enumerate(files):
        relative = entry.get("path") if isinstance(entry, dict) else None
        ok = (
            isinstance(relative, str)
            and "\x00" not in relative
            and all(part not in ("", ".", "..") for part in relative.split("/"))
            and isinstance(entry.get("size"), int)
            and not isinstance(entry.get("size"), bool)
            and entry["size"] >= 0
            and isinstance(entry.get("sha256"), str)
        )
        if not ok:
            raise StoredFileCorrupt(CORRUPT.format(key=key, why=f"bad manifest entry {index}"))
        parents = {"/".join(relative.split("/")[:n]) for n in range(1, relative.count("/") + 1)}
        if relative in seen or parents & seen or any(s.startswith(relative + "/") for s in seen):
            raise StoredFileCorrupt(
                CORRUPT.format(key=key, why=f"manifest names {relative!r} twice")
            )
        seen.add(relative)
    return files


def _verify(key: str, local: Path, entry: dict) -> None:
    if local.stat().st_size != entry["size"]:
        raise StoredFileCorrupt(CORRUPT.format(key=key, why="size differs"))
    digest = hashlib.sha256()
    with open(local, "rb") as handle:
        for chunk in iter(lambda: handle.read(CHUNK), b""):
            digest.update(chunk)
    if digest.hexdigest() != entry["sha256"]:
        raise StoredFileCorrupt(CORRUPT.format(key=key, why="sha256 differs"))


def _use_file(entry: Path) -> Path:
    return entry.with_name(entry.name + USE_SUFFIX)


@contextlib.contextmanager
def _use(entry: Path) -> Iterator[None]:
    """A shared lock on ``entry``'s use file (created when missing), its mtime set to now."""
    marker = _use_file(entry)
    marker.parent.mkdir(parents=True, exist_ok=True)
    while True:
        fd = os.open(marker, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_SH)
            # The pruner removes the file under its exclusive lock: a lock won on a removed
            # file guards nothing, so take the one now at the path.
            if _same_file(fd, marker):
                break
        except BaseException:
            os.close(fd)
            raise
        os.close(fd)
    try:
        os.utime(fd)
        yield
    finally:
        os.close(fd)


def _same_file(fd: int, path: Path) -> bool:
    try:
        return os.fstat(fd).st_ino == os.stat(path).st_ino
    except FileNotFoundError:
        return False


def cache_entries(cache_dir: Path) -> list[tuple[float, int, Path]]:
    """(last use, bytes, folder) of every complete entry under ``cache_dir``, oldest use first."""
    found = []
    for root, dirs, _files in os.walk(cache_dir):
        for name in list(dirs):
            if TOKEN.match(name):
                dirs.remove(name)  # an entry: its files are no entries
                entry = Path(root) / name
                found.append((_last_use(entry), _size(entry), entry))
            elif name.startswith("."):
                dirs.remove(name)  # a fetch or a removal in progress
    return sorted(found)


def _last_use(entry: Path) -> float:
    try:
        return _use_file(entry).stat().st_mtime
    except FileNotFoundError:
        return entry.stat().st_mtime  # fetched before use files existed


def _size(entry: Path) -> int:
    return sum(p.stat().st_size for p in entry.rglob("*") if p.is_file() and not p.is_symlink())


def cache_prune(cache_dir: Path, *, budget_bytes: int, grace_s: float | None = None) -> list[Path]:
    """Remove least recently used entries until the cache holds at most ``budget_bytes``,
    skipping entries in use or used within ``grace_s`` (default ``USE_GRACE_S``); the entries
    removed."""
    grace_s = USE_GRACE_S if grace_s is None else grace_s
    entries = cache_entries(Path(cache_dir))
    total = sum(size for _, size, _ in entries)
    removed = []
    for _, size, entry in entries:
        if total <= budget_bytes:
            break
        if _remove_unless_used(entry, grace_s=grace_s):
            removed.append(entry)
            total -= size
    return removed


def _remove_unless_used(entry: Path, *, grace_s: float) -> bool:
    marker = _use_file(entry)
    try:
        fd = os.open(marker, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError:
        return False
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as error:
            if error.errno in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                return False  # a reader holds it
            raise
        if not _same_file(fd, marker) or time.time() - _last_use(entry) < grace_s:
            return False
        doomed = entry.with_name(f".pruned-{entry.name}-{uuid.uuid4().hex[:8]}")
        try:
            os.rename(entry, doomed)  # gone for readers in one step
        except FileNotFoundError:
            return False
        marker.unlink(missing_ok=True)
    finally:
        os.close(fd)
    shutil.rmtree(doomed, ignore_errors=True)
    return True


def s3_opener(options: Mapping[str, str]) -> Opener:
    """Read keys of the bucket ``options`` names (``storage_config``'s S3 OPTIONS: bucket_name,
    endpoint_url, region_name, location) with boto3's own credential chain."""
    import boto3
    from botocore.exceptions import ClientError

    client = boto3.client(
        "s3", endpoint_url=options.get("endpoint_url"), region_name=options.get("region_name")
    )
    bucket = options["bucket_name"]
    prefix = str(options.get("location", "")).strip("/")

    def open_key(key: str) -> IO[bytes]:
        try:
            name = f"{prefix}/{key}" if prefix else key
            return client.get_object(Bucket=bucket, Key=name)["Body"]
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "NotFound"):
                raise StoredFileMissing(MISSING.format(key=key)) from error
            raise

    return open_key


def opener_from_environ(environ: Mapping[str, str]) -> Opener | None:
    """The opener for the store the environment names (STORAGE_URL / AWS_*), or None when it
    names the local folder (nothing to fetch: the folder is the store)."""
    from .storage_config import S3, storage_backend

    backend = storage_backend(environ)
    if backend["BACKEND"] != S3:
        return None
    return s3_opener(backend["OPTIONS"])
