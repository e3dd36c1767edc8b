"""Full-text search over message content (the index is built by migration 0009).

SQLite matches the FTS5 table kept in step by triggers; PostgreSQL matches the GIN-indexed
tsvector expression of the current revision. Both treat the query as words that must all occur,
the last one as a prefix (search-as-you-type), never as the engine's own query syntax.
"""

from __future__ import annotations

import re

from django.db import connection
from django.db.models import QuerySet
from django.db.models.expressions import RawSQL

FTS_TABLE = "datasets_app_example_fts"
# Kept identical to the expression indexed by migration 0009.
POSTGRES_DOCUMENT = (
    "to_tsvector('simple'::regconfig, jsonb_path_query_array(messages, '$[*].content'))"
)
REVISION_TABLE = "datasets_app_examplerevision"
_WORD = re.compile(r"\w+", re.UNICODE)
MAX_WORDS = 12


def search_words(text: str) -> list[str]:
    """The words of a query, lower-cased, at most ``MAX_WORDS``; punctuation is dropped."""
    return [w.lower() for w in _WORD.findall(text or "")][:MAX_WORDS]


def fts5_match(words: list[str]) -> str:
    """An FTS5 MATCH expression: every word as a quoted phrase, the last one as a prefix."""
    phrases = ['"' + w.replace('"', '""') + '"' for w in words]
    if phrases:
        phrases[-1] += "*"
    return " AND ".join(phrases)


def postgres_tsquery(words: list[str]) -> str:
    """A to_tsquery text: words joined by ``&``, the last one a prefix; words are \\w+ only."""
    terms = [w.replace("'", "") for w in words]
    if terms:
        terms[-1] += ":*"
    return " & ".join(terms)


def example_search(qs: QuerySet, text: str) -> QuerySet:
    """Examples of ``qs`` whose current revision's message texts contain all words of ``text``.

    A query without any word matches nothing rather than everything, so a search box holding
    only punctuation does not silently show the whole dataset.
    """
    words = search_words(text)
    if not words:
        return qs.none()
    if connection.vendor == "postgresql":
        # A subquery, not a join, so count() and values_list() (which drop select_related)
        # keep working; the planner answers it from the GIN index.
        return qs.filter(
            current_revision_id__in=RawSQL(  # noqa: S611 - constant SQL, the query is a parameter
                f"SELECT id FROM {REVISION_TABLE} "  # noqa: S608
                f"WHERE {POSTGRES_DOCUMENT} @@ to_tsquery('simple', %s)",
                [postgres_tsquery(words)],
            )
        )
    return qs.filter(
        pk__in=RawSQL(  # noqa: S611 - constant SQL, the query is a parameter
            f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s",  # noqa: S608
            [fts5_match(words)],
        )
    )


def search_windowed() -> bool:
    """Whether :func:`fts_window` is available (SQLite's FTS5 walks matches in rowid order)."""
    return connection.vendor == "sqlite"


def fts_window(words: list[str], *, cursor: int | None, ascending: bool, limit: int) -> list[int]:
    """Up to ``limit`` ids of examples (any dataset) matching ``words``, in id order from just
    past ``cursor``. FTS5 produces them lazily, so a word in every row costs only the window."""
    op, order = (">", "ASC") if ascending else ("<", "DESC")
    where = f"{FTS_TABLE} MATCH %s" + (f" AND rowid {op} %s" if cursor is not None else "")
    params = [fts5_match(words)] + ([cursor] if cursor is not None else []) + [limit]
    with connection.cursor() as c:
        c.execute(
            f"SELECT rowid FROM {FTS_TABLE} WHERE {where} ORDER BY rowid {order} LIMIT %s",  # noqa: S608
            params,
        )
        return [row[0] for row in c.fetchall()]
