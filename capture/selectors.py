"""Reads of the capture app, team-scoped through ``finetunedb.teams.scoping``."""

from __future__ import annotations

from django.db.models import QuerySet

from datasets_app.workspace.keyset import Page, keyset_page
from finetunedb.teams.permissions import Action
from finetunedb.teams.scoping import get_for_user, require_role, scope_to_user

from .models import IngestKey, Log, LogMeta, LogTag


def ingest_key_list(*, user, team) -> list[IngestKey]:
    """The team's keys, revoked ones too (with when), for owners and admins."""
    require_role(user, team.pk, Action.MANAGE_MEMBERS)
    return list(IngestKey.objects.filter(team=team).select_related("created_by"))


def log_get_for_user(user, log_id, *, action: Action = Action.READ) -> Log:
    return get_for_user(Log.objects.all(), user, pk=log_id, action=action)


def log_list_for_user(user, *, filters: dict) -> QuerySet:
    """The caller's teams' logs matching clean ``filters`` (``capture.filters.filters_parse``),
    newest first."""
    logs = scope_to_user(Log.objects.all(), user).select_related("feedback_by")
    return log_filter(logs, filters)


def log_filter(logs: QuerySet, filters: dict) -> QuerySet:
    if "team" in filters:
        logs = logs.filter(team_id=filters["team"])
    if "model" in filters:
        logs = logs.filter(model=filters["model"])
    if "trace_id" in filters:
        logs = logs.filter(trace_id=filters["trace_id"])
    if "tag" in filters:
        tagged = LogTag.objects.filter(name=filters["tag"])
        if "team" in filters:
            tagged = tagged.filter(team_id=filters["team"])
        logs = logs.filter(pk__in=tagged.values("log_id"))
    for key, value in filters.get("metadata", ()):
        # one indexed lookup per pair, (team, key, value) in capture_logmeta
        rows = LogMeta.objects.filter(key=key)
        if value is not None:
            rows = rows.filter(value=value)
        if "team" in filters:
            rows = rows.filter(team_id=filters["team"])
        logs = logs.filter(pk__in=rows.values("log_id"))
    if "since" in filters:
        logs = logs.filter(created_at__gte=filters["since"])
    if "until" in filters:
        logs = logs.filter(created_at__lt=filters["until"])
    feedback = filters.get("feedback")
    if feedback == "positive":
        logs = logs.filter(feedback_score__gt=0)
    elif feedback == "negative":
        logs = logs.filter(feedback_score__lt=0)
    elif feedback == "neutral":
        logs = logs.filter(feedback_score=0)
    elif feedback == "none":
        logs = logs.filter(feedback_score__isnull=True)
    elif feedback == "any":
        logs = logs.filter(feedback_score__isnull=False)
    if "search" in filters:
        logs = logs.filter(search_text__contains=filters["search"].casefold())
    return logs.order_by("-pk")


def log_page(logs: QuerySet, *, after=None, before=None, size: int = 50) -> Page:
    """One keyset page, newest first (``datasets_app.workspace.keyset``)."""
    return keyset_page(logs, sort="-id", after=after, before=before, size=size)


def capture_rule_list(*, user, team) -> list:
    from .models import CaptureRule

    require_role(user, team.pk, Action.READ)
    return list(CaptureRule.objects.filter(team=team))
