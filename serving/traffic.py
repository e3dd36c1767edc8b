"""A served model's traffic from capture's logs: calls, tokens in and out, latency p50/p95 and
error rate over a window ending now, and the lineage a served call's log links back to.

Each figure is one query on the existing indexes: the window's first log id comes from
``(team, created_at)``, and the model's logs from that id on from ``(team, model, -id)`` (ids
grow with time; the window's own ``created_at`` bound is applied on top, so a log stored in
the same millisecond as the boundary is judged by its timestamp). No index is added to the
log table, which every ingested row would pay for.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Q, QuerySet, Subquery, Sum
from django.utils import timezone

from capture.models import Log, LogSource
from finetunedb.teams.scoping import parse_id
from training.models import ModelArtifact

from .selectors import FINETUNED, served_artifacts_for

WINDOWS = {
    "1h": timedelta(hours=1),
    "24h": timedelta(hours=24),
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
}
DEFAULT_WINDOW = "24h"
BAD_WINDOW = "Unknown window {value!r}: choose one of 1h, 24h, 7d, 30d. Showing the last 24h."


@dataclass(frozen=True)
class Traffic:
    model_id: str
    window: str
    since: datetime
    calls: int
    errors: int
    prompt_tokens: int
    completion_tokens: int
    latency_p50_ms: int | None
    latency_p95_ms: int | None

    @property
    def error_rate(self) -> float | None:
        return self.errors / self.calls if self.calls else None


def served_name(model: ModelArtifact) -> str:
    return f"ftdb-model-{model.pk}"


def served_model_logs(model: ModelArtifact, *, since: datetime) -> QuerySet:
    """The served calls of ``model`` (capture logs of source ``serving``) since ``since``,
    newest first; the caller has already been authorised for ``model``."""
    team_id = model.run.version.dataset.team_id
    first = (
        Log.objects.filter(team_id=team_id, created_at__gte=since)
        .order_by("created_at")
        .values("id")[:1]
    )
    return Log.objects.filter(
        team_id=team_id,
        model=served_name(model),
        id__gte=Subquery(first),
        created_at__gte=since,
        source=LogSource.SERVING,
    ).order_by("-id")


def served_model_recent_calls(model: ModelArtifact, *, since: datetime, limit: int = 20) -> list:
    """The newest ``limit`` served calls of ``model`` since ``since``, for the traffic page."""
    logs = served_model_logs(model, since=since).only(
        "id", "created_at", "latency_ms", "prompt_tokens", "completion_tokens", "error"
    )
    return list(logs[:limit])


def served_model_traffic(model: ModelArtifact, *, window: str = DEFAULT_WINDOW) -> Traffic:
    """``model``'s traffic over the last ``window`` (a key of :data:`WINDOWS`)."""
    since = timezone.now() - WINDOWS[window]
    logs = served_model_logs(model, since=since).order_by()
    totals = logs.aggregate(
        calls=Count("id"),
        errors=Count("id", filter=Q(error__isnull=False)),
        prompt=Sum("prompt_tokens"),
        completion=Sum("completion_tokens"),
        timed=Count("latency_ms"),
    )
    return Traffic(
        model_id=served_name(model),
        window=window,
        since=since,
        calls=totals["calls"],
        errors=totals["errors"],
        prompt_tokens=totals["prompt"] or 0,
        completion_tokens=totals["completion"] or 0,
        latency_p50_ms=_percentile(logs, totals["timed"], 0.50),
        latency_p95_ms=_percentile(logs, totals["timed"], 0.95),
    )


def _percentile(logs: QuerySet, n: int, q: float) -> int | None:
    """The nearest-rank percentile of the logs' latencies: one ordered query for one row."""
    if not n:
        return None
    rank = max(1, math.ceil(round(q * n, 6)))  # round first: 0.95 * 20 is 19.000000000000004
    ordered = logs.filter(latency_ms__isnull=False).order_by("latency_ms", "id")
    return ordered.values_list("latency_ms", flat=True)[rank - 1 : rank].first()


def served_log_model(user, log: Log) -> ModelArtifact | None:
    """The fine-tuned model that answered ``log`` (a served call of the log's own team that
    ``user`` may see), for the log page's model -> run -> version -> examples links."""
    match = FINETUNED.match(log.model or "")
    if log.source != LogSource.SERVING or not match:
        return None
    pk = parse_id(match.group(1))
    if pk is None:
        return None
    return (
        served_artifacts_for(user)
        .filter(pk=pk, **{f"{ModelArtifact.team_path}_id": log.team_id})
        .select_related("run__version__dataset")
        .first()
    )
