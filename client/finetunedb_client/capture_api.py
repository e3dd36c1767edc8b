"""Methods for capture (DESIGN §8: ingest keys, capture rules, logs, logs → examples) and the
OpenAI-compatible serving routes (``/v1/models``). Mixed into :class:`~finetunedb_client.Client`.

For an application that logs its own LLM calls, :mod:`finetunedb_client.capture` has the
background :class:`~finetunedb_client.capture.Logger` and the ``openai`` wrapper.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

from .models import CaptureRule, FromLogsResult, IngestKey, Log, LogsAccepted

MAX_BATCH = 1000


class CaptureApi:
    # --- ingest keys ------------------------------------------------------------------------
    def list_ingest_keys(self, team_id: int) -> Iterator[IngestKey]:
        return self._pages(f"teams/{team_id}/ingest-keys/", IngestKey)

    def create_ingest_key(self, team_id: int, *, name: str) -> IngestKey:
        """The new key; its ``key`` is shown this once (store it now)."""
        return self._one("POST", f"teams/{team_id}/ingest-keys/", IngestKey, json={"name": name})

    def revoke_ingest_key(self, team_id: int, key_id: int) -> None:
        self.transport.request("DELETE", f"teams/{team_id}/ingest-keys/", json={"id": key_id})

    # --- capture rules ----------------------------------------------------------------------
    def list_capture_rules(self, team_id: int) -> Iterator[CaptureRule]:
        return self._pages(f"teams/{team_id}/capture-rules/", CaptureRule)

    def create_capture_rule(
        self,
        team_id: int,
        *,
        dataset: int,
        filter: dict | None = None,
        sample_rate: float = 1.0,
        status: str = "needs_review",
    ) -> CaptureRule:
        body = {
            "dataset": dataset,
            "filter": filter or {},
            "sample_rate": sample_rate,
            "status": status,
        }
        return self._one("POST", f"teams/{team_id}/capture-rules/", CaptureRule, json=body)

    def delete_capture_rule(self, team_id: int, rule_id: int) -> None:
        self.transport.request("DELETE", f"teams/{team_id}/capture-rules/", json={"id": rule_id})

    # --- logs -------------------------------------------------------------------------------
    def send_logs(
        self,
        logs: list[dict],
        *,
        team: int | None = None,
        skip_invalid: bool = False,
        idempotency_key: str | None = None,
    ) -> LogsAccepted:
        """POST up to 1,000 logs in one batch (202). With an ingest key as the client's token
        the key's team is used; with a personal token name ``team``. The batch carries an
        ``Idempotency-Key`` (a new one unless given), so it is retried on 429/503 and lost
        connections and still stored once. A bad entry raises ``ValidationError`` naming
        ``logs[i].path`` unless ``skip_invalid`` (then ``rejected`` lists them)."""
        if len(logs) > MAX_BATCH:
            raise ValueError(f"a batch holds at most {MAX_BATCH} logs; split it")
        body: dict = {"logs": list(logs)}
        if team is not None:
            body["team"] = team
        headers = {"Idempotency-Key": idempotency_key or uuid.uuid4().hex}
        response = self.transport.request(
            "POST",
            "logs/",
            json=body,
            headers=headers,
            params={"mode": "skip_invalid" if skip_invalid else None},
        )
        result = LogsAccepted.from_api(response.json(), self)
        result.replayed = response.headers.get("Idempotent-Replayed") == "true"
        return result

    def list_logs(self, *, page_size: int = 200, **filters) -> Iterator[Log]:
        """Newest first. Filters: team, model, tag, since, until, search, feedback, trace_id,
        metadata filters (see the API guide)."""
        return self._pages("logs/", Log, {**filters, "page_size": page_size})

    def get_log(self, log_id: int) -> Log:
        return self._one("GET", f"logs/{log_id}/", Log)

    def log_feedback(self, log_id: int, *, score: float | None, comment: str = "") -> Log:
        return self._one(
            "POST", f"logs/{log_id}/feedback/", Log, json={"score": score, "comment": comment}
        )

    def examples_from_logs(
        self,
        dataset_id: int,
        *,
        ids: list[int] | None = None,
        filter: dict | None = None,
        sample: int | None = None,
        seed: int = 0,
        status: str = "needs_review",
    ) -> FromLogsResult:
        body: dict = {"seed": seed, "status": status}
        if ids is not None:
            body["ids"] = list(ids)
        if filter is not None:
            body["filter"] = filter
        if sample is not None:
            body["sample"] = sample
        return self._one("POST", f"datasets/{dataset_id}/from-logs/", FromLogsResult, json=body)

    # --- serving ----------------------------------------------------------------------------
    def served_models(self) -> list[dict]:
        """``GET /v1/models``: the models your teams may call through ``/v1/chat/completions``
        (point the official ``openai`` client at ``<url>/v1`` with your token as api_key)."""
        auth = {"Authorization": f"Bearer {self.transport.token}"}
        return self._json("GET", "/v1/models", headers=auth).get("data", [])
