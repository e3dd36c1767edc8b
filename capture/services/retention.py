"""A team's capture settings (PII redaction, retention) and the periodic deletion of old logs.

Retention deletes logs, their tag and metadata rows, and nothing else: an example made from a
log keeps the log's id in ``Example.source_log`` (a plain integer, not a foreign key), so
examples, their revisions and every frozen version that holds them stay as they are.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from finetunedb.exceptions import ApplicationError
from finetunedb.teams.models import Team
from finetunedb.teams.permissions import Action
from finetunedb.teams.scoping import require_role

from ..models import Log

MAX_RETENTION_DAYS = 3650
DELETE_BATCH = 5000
BAD_RETENTION = f"retention_days is a whole number of days from 1 to {MAX_RETENTION_DAYS}, or null to keep logs."
BAD_REDACT = "redact_pii is true or false."


def team_capture_settings_set(*, user, team: Team, **changes) -> Team:
    """Owners and admins set ``redact_pii`` (bool) and ``retention_days`` (1-3650 or None)."""
    require_role(user, team.pk, Action.MANAGE_MEMBERS)
    fields = []
    if "redact_pii" in changes:
        if not isinstance(changes["redact_pii"], bool):
            raise ApplicationError(BAD_REDACT, code="redact_pii")
        team.log_redact_pii = changes["redact_pii"]
        fields.append("log_redact_pii")
    if "retention_days" in changes:
        days = changes["retention_days"]
        if days is not None and (
            not isinstance(days, int)
            or isinstance(days, bool)
            or not 1 <= days <= MAX_RETENTION_DAYS
        ):
            raise ApplicationError(BAD_RETENTION, code="retention_days")
        team.log_retention_days = days
        fields.append("log_retention_days")
    if fields:
        team.save(update_fields=fields)
    return team


def logs_retention_apply(*, now=None, batch_size: int = DELETE_BATCH) -> dict[int, int]:
    """Delete every team's logs older than its ``log_retention_days``; {team id: deleted}.

    Batches of ``batch_size`` ids, one short transaction each (a writer on SQLite waits at most
    one batch), oldest first; running it twice deletes nothing more.
    """
    now = now or timezone.now()
    out = {}
    for team_id, days in Team.objects.filter(log_retention_days__isnull=False).values_list(
        "pk", "log_retention_days"
    ):
        cutoff = now - timedelta(days=days)
        deleted = 0
        while True:
            ids = list(
                Log.objects.filter(team_id=team_id, created_at__lt=cutoff)
                .order_by("created_at")
                .values_list("pk", flat=True)[:batch_size]
            )
            if not ids:
                break
            with transaction.atomic():
                # tag and metadata rows go by the cascade, one DELETE … IN each (no signals)
                _, by_model = Log.objects.filter(pk__in=ids).delete()
            deleted += by_model.get(Log._meta.label, 0)
        out[team_id] = deleted
    return out
