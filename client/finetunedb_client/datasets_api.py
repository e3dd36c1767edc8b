"""Methods for DESIGN §6's dataset routes: datasets, examples, imports, checks and fixes,
dedup and contamination, splits and leakage. Mixed into :class:`~finetunedb_client.Client`."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .jobs import DedupJob, ImportJob, progress_bar
from .models import (
    Dataset,
    DuplicateCluster,
    Example,
    ResolveResult,
    SplitResult,
)
from .uploads import MultipartFile


class DatasetsApi:
    # --- datasets ---------------------------------------------------------------------------
    def list_datasets(self, *, team: int | None = None, page_size: int = 100) -> Iterator[Dataset]:
        return self._pages("datasets/", Dataset, {"team": team, "page_size": page_size})

    def create_dataset(
        self, *, team: int, name: str, description: str = "", settings: dict | None = None
    ) -> Dataset:
        body = {"team": team, "name": name, "description": description}
        if settings is not None:
            body["settings"] = settings
        return self._one("POST", "datasets/", Dataset, json=body)

    def get_dataset(self, dataset_id: int) -> Dataset:
        return self._one("GET", f"datasets/{dataset_id}/", Dataset)

    def update_dataset(self, dataset_id: int, **changes) -> Dataset:
        """``name``, ``description``, ``settings``."""
        return self._one("PATCH", f"datasets/{dataset_id}/", Dataset, json=changes)

    def delete_dataset(self, dataset_id: int) -> None:
        self.transport.request("DELETE", f"datasets/{dataset_id}/")

    # --- examples ---------------------------------------------------------------------------
    def list_examples(
        self, dataset_id: int, *, page_size: int = 200, **filters
    ) -> Iterator[Example]:
        """Filters: status, split, tag, source_format, rating, cluster, search, rule, severity,
        ordering."""
        return self._pages(
            f"datasets/{dataset_id}/examples/", Example, {**filters, "page_size": page_size}
        )

    def create_example(self, dataset_id: int, *, messages: list, **fields) -> Example:
        """``tools``, ``metadata``, ``status``, ``split``, ``tags``, ``rating``, ``notes``."""
        return self._one(
            "POST",
            f"datasets/{dataset_id}/examples/",
            Example,
            json={"messages": messages, **fields},
        )

    def get_example(self, example_id: int) -> Example:
        return self._one("GET", f"examples/{example_id}/", Example)

    def update_example(self, example_id: int, *, revision: int | None = None, **changes) -> Example:
        """PATCH with If-Match: ``revision`` is the example's ETag (read now when not given);
        a stale one raises :class:`~finetunedb_client.errors.PreconditionFailed`."""
        if revision is None:
            revision = self.get_example(example_id).revision
        return self._one(
            "PATCH",
            f"examples/{example_id}/",
            Example,
            json=changes,
            headers={"If-Match": f'"{revision}"'},
        )

    def delete_example(self, example_id: int) -> None:
        self.transport.request("DELETE", f"examples/{example_id}/")

    def bulk_examples(
        self,
        dataset_id: int,
        *,
        action: str,
        value: Any = None,
        ids: list[int] | None = None,
        filter: dict | None = None,
        expected_count: int | None = None,
    ) -> int:
        """``action``: set_status, add_tags, remove_tags, set_split, archive; on ``ids`` or a
        ``filter``. Returns how many examples changed."""
        body = {"action": action, "value": value}
        body.update({k: v for k, v in (("ids", ids), ("filter", filter)) if v is not None})
        if expected_count is not None:
            body["expected_count"] = expected_count
        return self._json("POST", f"datasets/{dataset_id}/examples/bulk/", json=body)["changed"]

    def example_models(self, example_id: int):
        from .models import ModelSummary

        return self._pages(f"examples/{example_id}/models/", ModelSummary)

    # --- imports ----------------------------------------------------------------------------
    def import_file(
        self,
        dataset_id: int,
        path: str | os.PathLike,
        *,
        format: str = "auto",
        mode: str = "strict",
        status: str | None = None,
        skip_duplicates: bool = False,
        column_mapping: dict | None = None,
        progress: bool = False,
        wait: bool = False,
    ) -> ImportJob:
        """Upload ``path`` (streamed from disk, with a bar when ``progress``) → the import job
        (202). ``wait=True`` waits for it to finish (see :meth:`ImportJob.wait`)."""
        import json as _json

        fields = {
            "format": format,
            "mode": mode,
            "status": status,
            "skip_duplicates": "true" if skip_duplicates else "false",
            "column_mapping": _json.dumps(column_mapping) if column_mapping else None,
        }
        size = Path(path).stat().st_size
        bar = progress_bar(total=size, desc=f"upload {Path(path).name}", enabled=progress, unit="B")
        if bar is not None:
            bar.unit_scale = True
        try:
            with MultipartFile(
                path, fields=fields, on_read=bar.update if bar is not None else None
            ) as body:
                job = self._one(
                    "POST",
                    f"datasets/{dataset_id}/imports/",
                    ImportJob,
                    data=body,
                    headers={"Content-Type": body.content_type},
                )
        finally:
            if bar is not None:
                bar.close()
        if wait:
            job.wait(progress=progress)
        return job

    def get_import(self, import_id: int) -> ImportJob:
        return self._one("GET", f"imports/{import_id}/", ImportJob)

    def import_errors(self, import_id: int) -> list[dict]:
        """The full report of an import's bad lines (``{line, code, path, message}`` each)."""
        import json as _json

        text = self.transport.request("GET", f"imports/{import_id}/errors/").text
        return [_json.loads(line) for line in text.splitlines() if line.strip()]

    def list_imports(self, dataset_id: int) -> Iterator[ImportJob]:
        return self._pages(f"datasets/{dataset_id}/imports/", ImportJob)

    # --- checks, fixes ----------------------------------------------------------------------
    def report(
        self, dataset_id: int, *, price_per_million: float | None = None, epochs: int | None = None
    ) -> dict:
        return self._json(
            "GET",
            f"datasets/{dataset_id}/report/",
            params={"price_per_million": price_per_million, "epochs": epochs},
        )

    def preview_fixes(
        self, dataset_id: int, *, fix_ids: list[str], ids=None, filter=None, offset=0, limit=50
    ) -> dict:
        body = _selection({"fix_ids": fix_ids, "offset": offset, "limit": limit}, ids, filter)
        return self._json("POST", f"datasets/{dataset_id}/fixes/preview/", json=body)

    def apply_fixes(self, dataset_id: int, *, fix_ids: list[str], ids=None, filter=None) -> dict:
        body = _selection({"fix_ids": fix_ids}, ids, filter)
        return self._json("POST", f"datasets/{dataset_id}/fixes/apply/", json=body)

    # --- dedup, contamination ---------------------------------------------------------------
    def dedup(
        self,
        dataset_id: int,
        *,
        method: str = "near",
        threshold: float = 0.8,
        fields: str = "conversation",
        wait: bool = False,
        progress: bool = False,
    ) -> DedupJob:
        job = self._one(
            "POST",
            f"datasets/{dataset_id}/dedup/",
            DedupJob,
            json={"method": method, "threshold": threshold, "fields": fields},
        )
        return job.wait(progress=progress) if wait else job

    def get_dedup_job(self, job_id: int) -> DedupJob:
        return self._one("GET", f"dedup-jobs/{job_id}/", DedupJob)

    def list_duplicate_clusters(
        self, dataset_id: int, *, method: str | None = None
    ) -> Iterator[DuplicateCluster]:
        return self._pages(
            f"datasets/{dataset_id}/duplicate-clusters/", DuplicateCluster, {"method": method}
        )

    def resolve_duplicates(self, dataset_id: int, *, action: str, **fields) -> ResolveResult:
        """``action``: keep (``cluster``, ``keep``), not_duplicates / merge_tags (``cluster``),
        keep_best (``clusters``: ids or "all")."""
        return self._one(
            "POST",
            f"datasets/{dataset_id}/duplicate-clusters/resolve/",
            ResolveResult,
            json={"action": action, **fields},
        )

    def contamination(
        self, dataset_id: int, *, against: int, threshold: float = 0.8, fields: str = "conversation"
    ) -> dict:
        return self._json(
            "POST",
            f"datasets/{dataset_id}/contamination/",
            json={"against": against, "threshold": threshold, "fields": fields},
        )

    # --- splits -----------------------------------------------------------------------------
    def split(
        self,
        dataset_id: int,
        *,
        ratios: dict[str, float],
        seed: int = 0,
        stratify_by: str | None = None,
        group_near_duplicates: bool = True,
        keep_existing: bool = True,
    ) -> SplitResult:
        body = {
            "ratios": ratios,
            "seed": seed,
            "group_near_duplicates": group_near_duplicates,
            "keep_existing": keep_existing,
        }
        if stratify_by:
            body["stratify_by"] = stratify_by
        return self._one("POST", f"datasets/{dataset_id}/split/", SplitResult, json=body)

    def leakage(self, dataset_id: int, *, stratify_by: str | None = None) -> dict:
        return self._json(
            "GET", f"datasets/{dataset_id}/leakage/", params={"stratify_by": stratify_by}
        )


def _selection(body: dict, ids, filter) -> dict:
    if ids is not None:
        body["ids"] = list(ids)
    if filter is not None:
        body["filter"] = filter
    return body
