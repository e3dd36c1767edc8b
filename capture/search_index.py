"""Reading the logs' full-text index (``capture.search``; migration 0008): the filter every
caller of ``selectors.log_filter`` gets, and the windowed page the list uses.

A word found in most of a million logs must not cost a pass over its matches. So the list walks
the index in page order, newest id first, a window of ids at a time, and lets the other filters
keep those they allow (:func:`log_search_page`); and a filter that cannot walk (a time window,
``from-logs``) takes the matches as an ``IN`` list only when they are few, else asks the index
about each log it reads (``EXISTS … rowid = log.id``), as ``selectors._having`` does for tags.
"""

from __future__ import annotations

from django.db import connection
from django.db.models import QuerySet
from django.db.models.expressions import RawSQL

from datasets_app.services.search import prefix_terms
from datasets_app.workspace.keyset import Page
from finetunedb.teams.scoping import parse_id

from .search import (
    FTS_TABLE,
    FTS_TERMS,
    POSTGRES_TABLE,
    fts5_match,
    postgres_query,
    search_words,
    team_term_prefix,
)

# fewer matches than this: an IN list; this many or more: a lookup per log read
DENSE_MATCHES = 5000
FIRST_WINDOW = 2_000
MAX_WINDOW = 32_000


def _match(words: list[str], team_ids: list[int]) -> str:
    completions = {}
    for team in team_ids:
        found = prefix_terms(team_term_prefix(team) + words[-1], vocab=FTS_TERMS)
        if found:
            completions[team] = found
    return fts5_match(words, team_ids, completions)


def log_search(logs: QuerySet, query: str, *, team_ids: list[int]) -> QuerySet:
    """``logs`` whose text holds every word of ``query`` (the last as a prefix), looked up in
    the index terms of ``team_ids`` only (the caller's teams). No word: nothing matches."""
    words = search_words(query)
    if not words or not team_ids:
        return logs.none()
    vendor = connection.vendor
    if vendor == "postgresql":
        sql = f"SELECT log_id FROM {POSTGRES_TABLE} WHERE document @@ %s::tsquery"  # noqa: S608
        return logs.filter(pk__in=RawSQL(sql, [postgres_query(words, team_ids)]))  # noqa: S611
    if vendor != "sqlite":  # no index: every word as a substring of the text (a superset)
        for word in words:
            logs = logs.filter(search_text__contains=word)
        return logs
    match = _match(words, team_ids)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT count(*) FROM (SELECT 1 FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s "  # noqa: S608
            "LIMIT %s)",
            [match, DENSE_MATCHES],
        )
        few = cursor.fetchone()[0] < DENSE_MATCHES
    if few:
        sql = f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s"  # noqa: S608
        return logs.filter(pk__in=RawSQL(sql, [match]))  # noqa: S611 - words are parameters
    table = logs.model._meta.db_table
    each = f'EXISTS (SELECT 1 FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s AND {FTS_TABLE}.rowid = "{table}"."id")'  # noqa: S608, E501 - constants
    return logs.extra(where=[each], params=[match])  # noqa: S610 - the match is a parameter


def search_windowed() -> bool:
    return connection.vendor == "sqlite"


def _window(match: str, cursor: int | None, ascending: bool, limit: int) -> list[int]:
    op, order = (">", "ASC") if ascending else ("<", "DESC")
    where = f"{FTS_TABLE} MATCH %s" + (f" AND rowid {op} %s" if cursor is not None else "")
    params = [match, *([cursor] if cursor is not None else []), limit]
    with connection.cursor() as c:
        c.execute(
            f"SELECT rowid FROM {FTS_TABLE} WHERE {where} ORDER BY rowid {order} LIMIT %s",  # noqa: S608
            params,
        )
        return [row[0] for row in c.fetchall()]


def log_search_page(
    logs: QuerySet, query: str, *, team_ids: list[int], after=None, before=None, size: int = 50
) -> Page:
    """One page of ``logs`` (the other filters, newest id first) matching ``query``: candidate
    ids come from the index in windows, in page order, until a page is full, so the match set is
    never materialised (``datasets_app.workspace.keyset.keyset_search_page`` for examples)."""
    words = search_words(query)
    after_id, before_id = parse_id(after), parse_id(before)
    going_back = after_id is None and before_id is not None
    cursor = after_id or before_id
    rows: list = []
    if words and team_ids:
        match = _match(words, team_ids)
        window, scan = FIRST_WINDOW, cursor
        while len(rows) <= size:
            ids = _window(match, scan, going_back, window)
            if not ids:
                break
            need = size + 1 - len(rows)
            chosen = logs.filter(pk__in=ids).order_by("pk" if going_back else "-pk")
            rows += list(chosen.values_list("pk", flat=True)[:need])
            if len(ids) < window:
                break
            scan = ids[-1]
            window = min(window * 2, MAX_WINDOW)
    more = len(rows) > size
    rows = rows[:size]
    if going_back:
        return Page(rows=rows[::-1], has_next=True, has_prev=more)
    return Page(rows=rows, has_next=more, has_prev=cursor is not None)
