"""Reads of the capture app, team-scoped through ``finetunedb.teams.scoping``."""

from __future__ import annotations

from finetunedb.teams.permissions import Action
from finetunedb.teams.scoping import get_for_user, require_role

from .models import IngestKey, Log


def ingest_key_list(*, user, team) -> list[IngestKey]:
    """The team's keys, revoked ones too (with when), for owners and admins."""
    require_role(user, team.pk, Action.MANAGE_MEMBERS)
    return list(IngestKey.objects.filter(team=team).select_related("created_by"))


def log_get_for_user(user, log_id, *, action: Action = Action.READ) -> Log:
    return get_for_user(Log.objects.all(), user, pk=log_id, action=action)
