"""Recovering imports a dead worker left behind, and the files nothing owns any more."""

from __future__ import annotations

import time

from finetunedb import storage as object_storage
from finetunedb.leases import lease_recover

from ... import storage
from ...models import ImportJob, ImportStatus
from .jobs import IMPORT_JOBS, LEASE


def import_jobs_recover() -> int:
    """Re-enqueue jobs a dead worker left behind (queued for a while, or running with an expired
    lease) and remove staging files of jobs no longer running. Called when a worker starts and
    once more a lease later (a worker restarted within a lease finds nothing expired at start).
    Returns how many jobs were re-enqueued."""
    count = lease_recover(IMPORT_JOBS)
    _sweep_staging()
    return count


def _sweep_staging() -> None:
    # A worker killed between the publish commit and its cleanup leaves the staging file behind.
    running = set(
        ImportJob.objects.filter(status=ImportStatus.RUNNING).values_list("stored_name", flat=True)
    )
    for path in storage.folder(storage.STAGING).glob("*.jsonl"):
        if path.name.removesuffix(".jsonl") not in running:
            storage.remove_quietly(path)
    # An upload saved inside a transaction that then rolled back has no job row; once it is
    # older than a lease (no transaction is still open around it) it is an orphan.
    cutoff = time.time() - LEASE.total_seconds()
    candidates = {
        p.name: p
        for p in storage.folder(storage.UPLOADS).iterdir()
        if p.is_file() and p.stat().st_mtime < cutoff
    }
    if candidates:
        known = set(
            ImportJob.objects.filter(stored_name__in=list(candidates)).values_list(
                "stored_name", flat=True
            )
        )
        if object_storage.remote():
            # With object storage a finished import's copy here is one a process stopped before
            # dropping (stored.import_job_local_copies_drop); the store keeps the upload.
            known -= set(
                ImportJob.objects.filter(
                    stored_name__in=list(candidates),
                    status__in=(ImportStatus.SUCCEEDED, ImportStatus.FAILED),
                ).values_list("stored_name", flat=True)
            )
        for name, path in candidates.items():
            if name not in known:
                storage.remove_quietly(path)
