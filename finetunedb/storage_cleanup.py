"""Deleting what the object store keeps that no row needs any more (docs/deployment.md,
"Storage"): import uploads past FINETUNEDB_UPLOAD_RETENTION_DAYS after their import finished or
failed, files of deleted datasets, jobs and models, publishes that were never recorded, and the
older tokens of a folder that was published again.

Each app says what its rows still reference: it registers, per storage kind, a function that
takes the :class:`CleanupPolicy` and returns ``referenced(key) -> bool`` for keys
``teams/<team>/<kind>/<name>`` (``storage_references_register`` in its ``AppConfig.ready``), so
this layer imports none of them. A kind no app registered is never touched.

Safe against work in progress: nothing younger than FINETUNEDB_STORAGE_CLEANUP_MIN_AGE_S is
deleted (an upload stored just before its job row, a publish whose row is not recorded yet, a
publish whose files are still arriving), a folder's older token goes only once the manifest that
replaced it is that old too (a reader who read the old manifest has long finished), and an
unreferenced folder loses its manifest first, so no reader ever sees a manifest naming deleted
files. Referenced keys are decided before the listing, and a row created in between is younger
than the age threshold, so its files are too.
"""

from __future__ import annotations

import logging
import re
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings

from . import storage
from .teams.storage_usage import format_bytes

logger = logging.getLogger(__name__)

FOLDER_KINDS = (storage.MODELS, storage.EMBEDDINGS)
FILE_KINDS = (storage.UPLOADS, storage.REPORTS, storage.EXPORTS)
UNKNOWN_KIND = "no storage kind is called {kind!r}; the kinds are {kinds}"
_KEY = re.compile(r"^teams/\d{1,19}/(?P<kind>[a-z]+)/(?P<name>[^/]+)(?:/(?P<rest>.+))?$")
_TOKEN = re.compile(r"^[0-9a-f]{32}$")


@dataclass(frozen=True)
class CleanupPolicy:
    now: float  # POSIX time the run started
    min_age_s: int
    upload_retention_s: int


Referenced = Callable[[str], bool]
ReferenceSource = Callable[[CleanupPolicy], Referenced]
_SOURCES: dict[str, ReferenceSource] = {}


def storage_references_register(kind: str, source: ReferenceSource) -> ReferenceSource:
    """Let ``source(policy)`` say which keys of ``kind`` rows still reference (its owning app's
    ``AppConfig.ready``); one source per kind, idempotent for the same function."""
    if kind not in storage.KINDS:
        raise ValueError(UNKNOWN_KIND.format(kind=kind, kinds=", ".join(storage.KINDS)))
    known = _SOURCES.get(kind)
    if known is not None and known is not source:
        raise ValueError(f"storage kind {kind!r} is already referenced by {known.__qualname__}")
    _SOURCES[kind] = source
    return source


@dataclass
class CleanupReport:
    deleted: list[str] = field(default_factory=list)
    bytes_freed: int = 0
    kept_young: int = 0  # unreferenced, but younger than the min age
    dry_run: bool = False

    def summary(self) -> str:
        verb = "Would delete" if self.dry_run else "Deleted"
        return (
            f"{verb} {len(self.deleted)} stored objects ({format_bytes(self.bytes_freed)}); "
            f"{self.kept_young} unreferenced objects kept as younger than the min age."
        )


def storage_cleanup(
    *,
    dry_run: bool = False,
    now: float | None = None,
    min_age_s: int | None = None,
    upload_retention_days: float | None = None,
) -> CleanupReport:
    """Delete (or with ``dry_run`` only list) every stored object no row references; see the
    module docstring for what is kept."""
    policy = CleanupPolicy(
        now=time.time() if now is None else now,
        min_age_s=settings.FINETUNEDB_STORAGE_CLEANUP_MIN_AGE_S if min_age_s is None else min_age_s,
        upload_retention_s=int(
            86400
            * (
                settings.FINETUNEDB_UPLOAD_RETENTION_DAYS
                if upload_retention_days is None
                else upload_retention_days
            )
        ),
    )
    referenced = {kind: source(policy) for kind, source in _SOURCES.items()}
    report = CleanupReport(dry_run=dry_run)
    groups: dict[tuple[str, str], list[tuple[str, str, int, float]]] = defaultdict(list)
    for key, size, modified in storage.objects_list("teams"):
        match = _KEY.match(key)
        if match is None or match["kind"] not in referenced:
            continue  # not a layout this app writes, or a kind nobody vouched for
        name = key.split("/", 4)[:4]
        groups[(match["kind"], "/".join(name))].append((key, match["rest"] or "", size, modified))
    for (kind, prefix), objects in sorted(groups.items()):
        is_referenced = referenced[kind](prefix)
        current = None
        if kind in FOLDER_KINDS and is_referenced:
            if any(rest == storage.MANIFEST for _k, rest, _s, _m in objects):
                current = _current_token(prefix)
        doomed = doomed_objects(
            kind=kind,
            objects=objects,
            is_referenced=is_referenced,
            current_token=current,
            policy=policy,
            report=report,
        )
        for key, size in doomed:
            if not dry_run:
                storage.file_delete(key)
            report.deleted.append(key)
            report.bytes_freed += size
    if report.deleted:
        logger.info("storage cleanup: %s", report.summary())
    return report


def _old(modified: float, policy: CleanupPolicy) -> bool:
    return policy.now - modified >= policy.min_age_s


def doomed_objects(
    *, kind, objects, is_referenced: bool, current_token: str | None, policy, report
) -> list[tuple[str, int]]:
    """The objects of one key (``teams/<t>/<kind>/<name>``) to delete, in the order to do so.
    Pure: ``objects`` are (key, the part after the key, bytes, modified); ``current_token`` the
    token the folder's manifest names (None when it has none or it could not be read)."""
    if kind not in FOLDER_KINDS:
        files = [(key, size, modified) for key, rest, size, modified in objects if not rest]
        if is_referenced or not files:
            return []
        if not all(_old(modified, policy) for _k, _s, modified in files):
            report.kept_young += len(files)
            return []
        return [(key, size) for key, size, _m in files]
    by_group: dict[str, list[tuple[str, int, float]]] = defaultdict(list)
    for key, rest, size, modified in objects:
        by_group[rest.split("/", 1)[0]].append((key, size, modified))
    manifest = by_group.pop(storage.MANIFEST, [])
    if not is_referenced:
        everything = [*manifest, *(o for group in by_group.values() for o in group)]
        if not all(_old(modified, policy) for _k, _s, modified in everything):
            report.kept_young += len(everything)
            return []
        # manifest first: a reader sees "not published", never a manifest naming missing files
        return [(key, size) for key, size, _m in everything]
    current = current_token
    if manifest and current is None:
        return []  # a manifest we cannot read: the token it names is unknown, so keep all
    replaced_long_ago = not manifest or _old(manifest[0][2], policy)
    doomed = []
    for group, members in sorted(by_group.items()):
        if group == current:
            continue
        if not (replaced_long_ago and all(_old(m, policy) for _k, _s, m in members)):
            report.kept_young += len(members)
            continue
        # an older token, a publish never finished, a stray partial file: nobody reads them
        doomed += [(key, size) for key, size, _m in members]
    return doomed


def _current_token(prefix: str) -> str | None:
    try:
        token = storage.folder_manifest(prefix).get("token")
    except (storage.StoredFileMissing, storage.StoredFileCorrupt, ValueError):
        return None
    return token if isinstance(token, str) and _TOKEN.match(token) else None
