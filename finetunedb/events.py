"""Team events: the one hook through which the apps announce what happened (issue 23).

An app that finishes something a team may want to hear about (an import, a freeze, a training
run) calls :func:`event_emit` inside its own transaction; the event is handed to the registered
sinks only after that transaction commits (``transaction.on_commit``), so a rolled-back freeze
announces nothing. The webhooks app registers its sink in ``AppConfig.ready``
(``event_sink_register``); the apps never import it (tests/webhooks/test_layers.py), like the
other hooks of the base layer (``finetunedb.leases.kind_register``, ``storage_part_register``).

The catalogue below is the public contract of docs/webhooks.md: names are extended, never renamed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from django.db import transaction

logger = logging.getLogger(__name__)

EVENT_TYPES: dict[str, str] = {
    "import.finished": "an import job published its examples",
    "import.failed": "an import job failed (nothing was written)",
    "dedup.finished": "a dedup job found its duplicate clusters",
    "version.frozen": "a dataset version was frozen",
    "training.started": "a training run started on a worker",
    "training.finished": "a training run succeeded and recorded its model",
    "training.failed": "a training run failed or was given up",
    "eval_run.finished": "an eval run finished (succeeded, failed or cancelled)",
    "model.served": "a fine-tuned model answered its first served call",
}
UNKNOWN_EVENT = "Unknown event type {type!r}; the catalogue is finetunedb/events.py EVENT_TYPES."

Sink = Callable[[int, str, str, dict], None]  # (team_id, type, timestamp, data)
_SINKS: list[Sink] = []


def event_sink_register(sink: Sink) -> Sink:
    """Add ``sink``; called from an ``AppConfig.ready``. Registering twice keeps one."""
    if sink not in _SINKS:
        _SINKS.append(sink)
    return sink


def event_sinks_registered() -> list[Sink]:
    return list(_SINKS)


def event_emit(*, team_id: int, type: str, data: dict) -> None:  # noqa: A002 (the payload's key)
    """Announce ``type`` for ``team_id`` once the current transaction commits.

    ``data`` is plain JSON (ids, names, status, urls). A failing sink is logged and never breaks
    the work that emitted the event (it already committed).
    """
    if type not in EVENT_TYPES:
        raise ValueError(UNKNOWN_EVENT.format(type=type))
    timestamp = datetime.now(UTC).isoformat().replace("+00:00", "Z")

    def deliver() -> None:
        for sink in list(_SINKS):
            try:
                sink(team_id, type, timestamp, data)
            except Exception:  # the event's work is committed; a sink must not undo the caller
                logger.exception("event sink failed", extra={"event": type, "team_id": team_id})

    transaction.on_commit(deliver)
