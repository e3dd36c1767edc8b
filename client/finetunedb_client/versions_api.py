"""Methods for DESIGN §6's version routes: freeze, versions, diff, restores, action jobs, and
the exports of versions and working copies. Mixed into :class:`~finetunedb_client.Client`."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import requests

from .errors import ConnectionFailed
from .exports import Export, stream_to_file
from .jobs import ActionJob, progress_bar
from .models import Restore, Version
from .transport import backoff_delay

EXTENSIONS = {"parquet": ".parquet"}


class VersionsApi:
    # --- versions, restores -----------------------------------------------------------------
    def freeze(
        self,
        dataset_id: int,
        *,
        name: str = "",
        notes: str = "",
        force: bool = False,
        reason: str = "",
        wait: bool = True,
        progress: bool = False,
    ) -> Version | ActionJob:
        """Freeze the working copy → the new :class:`Version` (201). ``wait=False`` queues it
        as an action job (``?async=1``) and returns the :class:`ActionJob`; its ``wait()``
        ends with ``result["version"]``. Blockers (error-level findings, not forced) raise
        :class:`~finetunedb_client.errors.Conflict` naming them."""
        body = {"name": name, "notes": notes, "force": force, "reason": reason}
        route = f"datasets/{dataset_id}/versions/"
        if wait and not progress:
            return self._one("POST", route, Version, json=body)
        job = self._one("POST", route, ActionJob, json=body, params={"async": "1"})
        if not wait:
            return job
        job.wait(progress=progress)
        return self.get_version(job.result["version"])

    def list_versions(self, dataset_id: int) -> Iterator[Version]:
        return self._pages(f"datasets/{dataset_id}/versions/", Version)

    def get_version(self, version_id: int) -> Version:
        return self._one("GET", f"versions/{version_id}/", Version)

    def update_version(
        self, version_id: int, *, name: str | None = None, notes: str | None = None
    ) -> Version:
        body = {k: v for k, v in (("name", name), ("notes", notes)) if v is not None}
        return self._one("PATCH", f"versions/{version_id}/", Version, json=body)

    def diff(
        self,
        version_id: int,
        *,
        against: int,
        kind: str | None = None,
        page: int | None = None,
        page_size: int | None = None,
    ) -> dict:
        return self._json(
            "GET",
            f"versions/{version_id}/diff/",
            params={"against": against, "kind": kind, "page": page, "page_size": page_size},
        )

    def restore_version(self, version_id: int) -> Restore:
        return self._one("POST", f"versions/{version_id}/restore/", Restore)

    def get_restore(self, restore_id: int) -> Restore:
        return self._one("GET", f"restores/{restore_id}/", Restore)

    def undo_restore(self, restore_id: int) -> Restore:
        return self._one("POST", f"restores/{restore_id}/undo/", Restore)

    def get_action_job(self, job_id: int) -> ActionJob:
        return self._one("GET", f"action-jobs/{job_id}/", ActionJob)

    # --- exports ----------------------------------------------------------------------------
    def export(
        self,
        version: int | None = None,
        *,
        dataset: int | None = None,
        format: str = "openai",
        split: str | None = None,
        status: str | None = None,
        gzip: bool = False,
        metadata: bool = False,
        skip_unrepresentable: bool = False,
        path: str | os.PathLike | None = None,
        progress: bool = False,
    ) -> Export:
        """Stream a frozen version's export (or, with ``dataset=``, the working copy's) to
        ``path`` — byte for byte what the API sends — and return it as an :class:`Export`
        (``.path``, ``.records()``, ``.to_pandas()``, ``.to_dataset()``). Without ``path``
        the file is a temporary one that ``Export.close()`` removes."""
        if (version is None) == (dataset is None):
            raise TypeError("give a version id, or dataset= for the working copy")
        params = {
            "format": format,
            "split": split,
            "gzip": gzip or None,
            "metadata": metadata or None,
            "skip_unrepresentable": skip_unrepresentable or None,
        }
        if version is not None:
            route = f"versions/{version}/export/"
        else:
            route = f"datasets/{dataset}/export/"
            params["status"] = status
        temporary = path is None
        if temporary:
            suffix = EXTENSIONS.get(format, ".jsonl") + (".gz" if gzip else "")
            fd, name = tempfile.mkstemp(prefix="finetunedb-export-", suffix=suffix)
            os.close(fd)
            path = name
        size = self._download(route, params, path, progress=progress)
        return Export(Path(path), format=format, size=size, temporary=temporary)

    def _download(self, route: str, params: dict, path, *, progress: bool) -> int:
        """Stream ``route`` to ``path``. A connection lost mid-body starts the download again
        (an export is the same bytes every time; the file is only renamed into place whole)."""
        transport = self.transport
        for attempt in range(transport.max_retries + 1):
            response = transport.request("GET", route, params=params, stream=True)
            length = response.headers.get("Content-Length")
            bar = progress_bar(
                total=int(length) if length else 0, desc="export", enabled=progress, unit="B"
            )
            try:
                return stream_to_file(response, path, progress=bar)
            except requests.RequestException as exc:
                if attempt >= transport.max_retries:
                    raise ConnectionFailed(
                        f"The export from {transport.url} broke off: {exc}", url=response.url
                    ) from exc
                transport.retries += 1
                transport.sleep(
                    backoff_delay(attempt, base=transport.backoff, cap=transport.max_backoff)
                )
            finally:
                if bar is not None:
                    bar.close()
        raise AssertionError("unreachable")
