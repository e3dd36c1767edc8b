"""Methods for the semantic layer (DESIGN §8, issue 22): embedding jobs, topic clusters, and the
coverage plan (targets, the plan's status with its gaps, a gap turned into a review queue).
Mixed into :class:`~finetunedb_client.Client`; these routes answer plain objects, returned
here as dicts."""

from __future__ import annotations


class SemanticApi:
    # --- embeddings and topics -------------------------------------------------------------
    def embed(self, dataset_id: int, *, model: str | None = None) -> dict:
        """Queue an embedding job (202): the examples not embedded yet are embedded."""
        body = {"model": model} if model else {}
        return self._json("POST", f"datasets/{dataset_id}/embeddings/", json=body)

    def latest_embedding_job(self, dataset_id: int) -> dict:
        return self._json("GET", f"datasets/{dataset_id}/embeddings/")

    def get_embedding_job(self, job_id: int) -> dict:
        return self._json("GET", f"embedding-jobs/{job_id}/")

    def topics(self, dataset_id: int, *, k: int | None = None) -> dict:
        """Topic clusters: label, size, share per split, first examples, and a 2-D map."""
        return self._json("GET", f"datasets/{dataset_id}/topics/", params={"k": k})

    # --- coverage plan ----------------------------------------------------------------------
    def coverage(self, dataset_id: int) -> dict:
        """The plan's status: ``gate``, ``total``, each target's count, ``actual_share``,
        bounds, ``state`` and gap (``add``, ``remove``), and ``unmet``."""
        return self._json("GET", f"datasets/{dataset_id}/coverage/")

    def list_coverage_targets(self, dataset_id: int) -> list[dict]:
        return self._json("GET", f"datasets/{dataset_id}/coverage-targets/")["results"]

    def add_coverage_target(
        self,
        dataset_id: int,
        *,
        kind: str,
        value: str | int,
        mode: str,
        share: float | str,
        key: str = "",
        split: str = "",
        tolerance: float | str = 0,
    ) -> dict:
        """``kind`` topic/tag/metadata (``key`` for metadata), ``mode`` about (± ``tolerance``)
        /min/max, ``share`` in percent; ``split`` empty for the whole dataset."""
        body = {
            "kind": kind,
            "key": key,
            "value": str(value),
            "split": split,
            "mode": mode,
            "share": str(share),
            "tolerance": str(tolerance),
        }
        return self._json("POST", f"datasets/{dataset_id}/coverage-targets/", json=body)

    def get_coverage_target(self, target_id: int) -> dict:
        return self._json("GET", f"coverage-targets/{target_id}/")

    def update_coverage_target(self, target_id: int, **changes) -> dict:
        """Any of kind, key, value, split, mode, share, tolerance."""
        body = {
            k: str(v) if k in ("share", "tolerance", "value") else v for k, v in changes.items()
        }
        return self._json("PATCH", f"coverage-targets/{target_id}/", json=body)

    def delete_coverage_target(self, target_id: int) -> None:
        self.transport.request("DELETE", f"coverage-targets/{target_id}/")

    def coverage_queue(self, target_id: int, *, annotators: list[int] | None = None) -> dict:
        """An over-target bucket's examples as an annotation assignment (default annotator:
        you). Under its target the server answers 409 with ``authoring_url``."""
        body = {"annotators": annotators} if annotators else {}
        return self._json("POST", f"coverage-targets/{target_id}/queue/", json=body)
