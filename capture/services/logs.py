"""Storing logs: one validated batch in one transaction, idempotent under a key."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.utils import timezone

from finetunedb.exceptions import ApplicationError
from finetunedb.teams.permissions import Action
from finetunedb.teams.scoping import require_role

from ..entries import entry_parse
from ..models import Log, LogBatch, LogSource
from .log_store import log_rows_insert
from .rules import capture_rules_schedule

MAX_BATCH = 1000
BATCH_EMPTY = "Send at least one log."
BATCH_TOO_LARGE = f"A batch holds at most {MAX_BATCH} logs; split it."
BATCH_INVALID = "{n} of {total} logs are invalid; nothing was stored. Fix them, or send mode=skip_invalid to store the others."
IDEMPOTENCY_KEY_TOO_LONG = "The Idempotency-Key header is at most 200 characters."


@dataclass
class LogBatchResult:
    ids: list[int]
    # entries left out under skip_invalid: {"index", "path", "message"} per problem
    errors: list[dict] = field(default_factory=list)
    replayed: bool = False


def _problems(index: int, errors) -> list[dict]:
    return [
        {
            "index": index,
            "path": f"logs[{index}]"
            + ("" if e.path == "$" else ("." + e.path if not e.path.startswith("[") else e.path)),
            "message": e.message,
        }
        for e in errors
    ]


def log_batch_create(
    *,
    team,
    entries: list,
    source: str = LogSource.API,
    ingest_key=None,
    idempotency_key: str | None = None,
    skip_invalid: bool = False,
) -> LogBatchResult:
    """Validate and store ``entries`` (plain dicts, the fields of ``capture.entries``) for ``team``.

    The caller has decided who may write to ``team`` (an ingest key of it, or a member's token);
    this function does not check roles. Every entry is validated first; with one invalid entry
    nothing is stored and ``ApplicationError`` (400) lists each problem as
    ``{"index", "path": "logs[3].messages[1].role", "message"}``, unless ``skip_invalid``, which
    stores the valid ones and returns the rest in ``errors``. Under an ``idempotency_key`` the
    first call stores and every retry returns the same ids (``replayed=True``) storing nothing.

    Serving (and the proxy) log what they served with one entry per call, after the answer is
    sent, e.g.::

        log_batch_create(team=team, source=LogSource.SERVING, entries=[{
            "messages": request_messages, "tools": tools or None,
            "response": assistant_message,          # or the whole chat.completion dict
            "model": "ftdb-model-12", "latency_ms": 412,
            "usage": {"prompt_tokens": 8, "completion_tokens": 2, "total_tokens": 10},
        }], skip_invalid=True)

    (``skip_invalid=True`` so that a call that cannot be logged never fails the caller; a
    failed call is logged with ``"error": {"message": ..., "type": ...}`` and no response).
    """
    if not isinstance(entries, list) or not entries:
        raise ApplicationError(BATCH_EMPTY, code="empty")
    if len(entries) > MAX_BATCH:
        raise ApplicationError(BATCH_TOO_LARGE, code="too_many_logs")
    if idempotency_key is not None and len(idempotency_key) > 200:
        raise ApplicationError(IDEMPOTENCY_KEY_TOO_LONG, code="idempotency_key")
    if idempotency_key:
        earlier = _replay(team, idempotency_key)
        if earlier is not None:
            return earlier
    rows, problems = [], []
    redact = bool(getattr(team, "log_redact_pii", False))
    for index, raw in enumerate(entries):
        row, errors = entry_parse(raw, redact=redact)
        if errors:
            problems += _problems(index, errors)
        else:
            rows.append(row)
    if problems and not skip_invalid:
        bad = len({p["index"] for p in problems})
        raise ApplicationError(
            BATCH_INVALID.format(n=bad, total=len(entries)), code="invalid_logs", errors=problems
        )
    try:
        with transaction.atomic():
            ids = _store(team, rows, source=source, ingest_key=ingest_key)
            if idempotency_key:
                LogBatch.objects.create(team=team, key=idempotency_key, ids=ids, errors=problems)
            capture_rules_schedule(team_id=team.pk, log_ids=ids)
    except IntegrityError:
        # A concurrent retry under the same key committed first: answer with its ids.
        earlier = _replay(team, idempotency_key) if idempotency_key else None
        if earlier is None:
            raise
        return earlier
    return LogBatchResult(ids=ids, errors=problems)


def _replay(team, key: str) -> LogBatchResult | None:
    batch = LogBatch.objects.filter(team=team, key=key).first()
    if batch is None:
        return None
    return LogBatchResult(ids=list(batch.ids), errors=list(batch.errors), replayed=True)


def _store(team, rows: list[dict], *, source: str, ingest_key) -> list[int]:
    return log_rows_insert(
        team_id=team.pk,
        rows=rows,
        source=source,
        ingest_key_id=ingest_key.pk if ingest_key is not None else None,
    )


def log_batch_authorize(*, user, team, action) -> None:
    """A member's token writing logs: the role must allow ``action`` (404 outside the team)."""
    require_role(user, team.pk, action)


def log_feedback_authorize(*, user, log) -> None:
    require_role(user, log.team_id, Action.ANNOTATE)


def log_feedback_set(*, user, log, score: float | None, comment: str = "") -> Log:
    """Score a log (-1 bad … 1 good, None to clear) with an optional comment; annotators and up."""
    require_role(user, log.team_id, Action.ANNOTATE)
    log.feedback_score = score
    log.feedback_comment = comment
    log.feedback_by = user
    log.feedback_at = timezone.now()
    log.save(update_fields=["feedback_score", "feedback_comment", "feedback_by", "feedback_at"])
    return log
