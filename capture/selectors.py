"""Reads of the capture app, team-scoped through ``finetunedb.teams.scoping``."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, QuerySet

from datasets_app.workspace.keyset import Page, keyset_page
from finetunedb.teams.permissions import Action
from finetunedb.teams.scoping import get_for_user, require_role, scope_to_user, team_ids_for

from .models import IngestKey, Log, LogMeta, LogTag
from .search_index import log_search, log_search_page, search_windowed


def ingest_key_list(*, user, team) -> list[IngestKey]:
    """The team's keys, revoked ones too (with when), for owners and admins."""
    require_role(user, team.pk, Action.MANAGE_MEMBERS)
    return list(IngestKey.objects.filter(team=team).select_related("created_by"))


def log_get_for_user(user, log_id, *, action: Action = Action.READ) -> Log:
    return get_for_user(Log.objects.all(), user, pk=log_id, action=action)


def log_list_for_user(user, *, filters: dict) -> QuerySet:
    """The caller's teams' logs matching clean ``filters`` (``capture.filters.filters_parse``),
    newest first."""
    filters, teams = _scoped(user, filters)
    logs = scope_to_user(Log.objects.all(), user).select_related("feedback_by")
    return log_filter(logs, filters, team_ids=teams)


def _scoped(user, filters: dict) -> tuple[dict, list[int]]:
    """``filters`` with the team named where the caller has one, and the teams a search may
    read the index terms of: the caller's, or the named one if it is the caller's."""
    mine = list(team_ids_for(user).values_list("team_id", flat=True))
    if "team" not in filters and len(mine) == 1:
        # One team (most callers): name it, so the query reads team_id = ? and walks the
        # (team, -id) index in page order. "team_id IN (subquery)" alone can come out of that
        # index in team order only, and SQLite (the app runs no ANALYZE) then sorts every log
        # of the team to find the newest 50: 0.5 s at 1M logs. Scoping stays scope_to_user's.
        filters = {**filters, "team": mine[0]}
    if "team" in filters:
        return filters, [filters["team"]] if filters["team"] in mine else []
    return filters, mine


def log_page_for_user(user, *, filters: dict, after=None, before=None, size: int = 50) -> Page:
    """The list's page: :func:`log_page` of :func:`log_list_for_user`, with a text search read
    from the index in page order (``search_index.log_search_page``) where it can walk."""
    if "search" not in filters or not search_windowed() or "since" in filters or "until" in filters:
        logs = log_list_for_user(user, filters=filters)
        return log_page(logs, after=after, before=before, size=size)
    filters, teams = _scoped(user, filters)
    rest = {k: v for k, v in filters.items() if k != "search"}
    logs = log_filter(scope_to_user(Log.objects.all(), user), rest, team_ids=teams)
    ids = log_search_page(
        logs, filters["search"], team_ids=teams, after=after, before=before, size=size
    )
    return _rows(ids)


def log_filter(logs: QuerySet, filters: dict, *, team_ids: list[int] | None = None) -> QuerySet:
    """``logs`` matching clean ``filters``; a search reads the index terms of ``filters["team"]``,
    else of ``team_ids`` (the teams ``logs`` is scoped to), else of the teams ``logs`` holds."""
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
        logs = _having(logs, tagged)
    for key, value in filters.get("metadata", ()):
        # one indexed lookup per pair, (team, key, value) in capture_logmeta
        rows = LogMeta.objects.filter(key=key)
        if value is not None:
            rows = rows.filter(value=value)
        if "team" in filters:
            rows = rows.filter(team_id=filters["team"])
        logs = _having(logs, rows)
    windowed = "since" in filters or "until" in filters
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
        if "team" in filters:
            teams = [filters["team"]]
        elif team_ids is not None:
            teams = list(team_ids)
        else:  # a caller that named no teams: those of the logs it passed
            teams = list(logs.order_by().values_list("team_id", flat=True).distinct())
        logs = log_search(logs, filters["search"], team_ids=teams)
    if windowed:
        # A time window is read in the order of its index, (team, created_at, id) — SQLite's
        # index carries the rowid — so a page starts at the window's newest log and stops after
        # 50, wherever the window lies. Walked by id, a window ending 45 days back either passed
        # every newer log or collected and sorted every id of the window (0.78 s at 1M logs).
        # Ids are not in created_at order in general (created_at is taken before the INSERT,
        # and workers, machines and PostgreSQL's sequence interleave), so no id range stands in
        # for the window: the page order itself is created_at, ties by id.
        return logs.order_by("-created_at", "-pk")
    return logs.order_by("-pk")


# Below this many tag (or metadata) rows a filter is selective: its log ids are collected
# first (IN). From this many on it is dense: the newest logs are walked and each is checked
# with an EXISTS lookup on its own tag rows, so a page stops after ~size / density logs
# instead of collecting (and sorting) hundreds of thousands of ids. Counting stops here too.
DENSE_ROWS = 5000

# The page order of a time window: newest creation time first, ties by id.
TIME_SORT = {"-created_at": ("created_at", True, "Newest first")}


def _having(logs: QuerySet, rows: QuerySet) -> QuerySet:
    """``logs`` that have one of ``rows`` (LogTag or LogMeta rows), the cheaper way round."""
    if rows[:DENSE_ROWS].count() < DENSE_ROWS:
        return logs.filter(pk__in=rows.values("log_id"))
    return logs.filter(Exists(rows.filter(log_id=OuterRef("pk"))))


def log_page(logs: QuerySet, *, after=None, before=None, size: int = 50) -> Page:
    """One keyset page, newest first (``datasets_app.workspace.keyset``): by id, or by
    creation time where ``log_filter`` ordered a time window so.

    The page's ids come first, from the indexes alone where they cover the filters, then the
    50 rows themselves: sorting thousands of whole logs (their JSON) to keep 50 was most of a
    filtered page.
    """
    by_time = tuple(logs.query.order_by[:1]) == ("-created_at",)
    ids = keyset_page(
        logs.values_list("pk", flat=True),
        sort="-created_at" if by_time else "-id",
        sorts=TIME_SORT if by_time else None,
        after=after,
        before=before,
        size=size,
    )
    return _rows(ids)


def _rows(ids: Page) -> Page:
    """The page of whole logs for a page of ids."""
    by_id = {
        log.pk: log for log in Log.objects.filter(pk__in=[*ids.rows]).select_related("feedback_by")
    }
    rows = [by_id[pk] for pk in ids.rows if pk in by_id]
    return Page(rows=rows, has_next=ids.has_next, has_prev=ids.has_prev)


def capture_rule_list(*, user, team) -> list:
    from .models import CaptureRule

    require_role(user, team.pk, Action.READ)
    return list(CaptureRule.objects.filter(team=team))
