"""Served calls become capture logs (DESIGN §8: "automatically from the product's own serving
endpoint"), through capture's one write path ``log_batch_create``."""

from __future__ import annotations

import logging

from capture.models import Log, LogSource
from capture.services.logs import log_batch_create
from finetunedb.events import event_emit
from finetunedb.teams.models import Membership, Team

from .openai_format import usage

logger = logging.getLogger(__name__)


def served_call_team(*, model, user=None, ingest_key=None) -> Team | None:
    """Where a served call is logged: a fine-tuned model's team; for a base model the ingest
    key's team, or the caller's first team (the one joined first); None for a user in none."""
    if model.team_id:
        return Team.objects.filter(pk=model.team_id).first()
    if ingest_key is not None:
        return ingest_key.team
    membership = Membership.objects.filter(user=user).order_by("pk").select_related("team").first()
    return membership.team if membership else None


def served_call_log(
    *,
    team,
    model_id: str,
    messages: list,
    tools,
    text: str | None,
    done: dict | None,
    latency_ms: int,
    error: str | None = None,
    ingest_key=None,
) -> None:
    """Store one served call as a log of ``team``; never fails the call it records."""
    if team is None:
        return
    entry = {"messages": messages, "model": model_id, "latency_ms": max(0, int(latency_ms))}
    if tools:
        entry["tools"] = tools
    if error is not None:
        entry["error"] = {"message": error[:1000], "type": "server_error"}
    else:
        entry["response"] = {"role": "assistant", "content": text or ""}
        entry["usage"] = usage(done or {})
    try:
        result = log_batch_create(
            team=team,
            entries=[entry],
            source=LogSource.SERVING,
            ingest_key=ingest_key,
            skip_invalid=True,
        )
        if getattr(result, "errors", None):
            logger.warning("served call not logged: %s", result.errors)
        elif error is None and model_id.startswith(FINETUNED_PREFIX):
            served_first_call_announce(team=team, model_id=model_id, log_id=result.ids[0])
    except Exception:  # noqa: BLE001 - the answer was sent; a log that fails is reported, not raised
        logger.exception("served call not logged")


FINETUNED_PREFIX = "ftdb-model-"  # serving.selectors names a team's models ftdb-model-<id>


def served_first_call_announce(*, team, model_id: str, log_id: int) -> None:
    """``model.served`` the first time a fine-tuned model answers a call (its first served log;
    on the (team, model, -id) index, two rows at most). Two first calls at the same instant may
    each see the other's log and announce nothing: the event is a heads-up, not a ledger."""
    if Log.objects.filter(team=team, model=model_id, source=LogSource.SERVING)[:2].count() != 1:
        return
    artifact_id = int(model_id.removeprefix(FINETUNED_PREFIX))
    event_emit(
        team_id=team.pk,
        type="model.served",
        data={
            "model": {"id": artifact_id, "name": model_id, "url": f"/api/v1/models/{artifact_id}/"},
            "log": {"id": log_id, "url": f"/api/v1/logs/{log_id}/"},
        },
    )
