"""Full-text search over message content, keyed by dataset (the index is built by migration 0011).

Every term in the index carries its example's dataset (:func:`dataset_term_prefix`), and a query
names only the searched dataset's terms, so what a search reads (and how long it takes) depends
on that dataset alone, never on which words other teams' data holds. SQLite matches the FTS5
table kept in step by triggers; PostgreSQL matches the GIN-indexed ``datasets_app_example_search``
table kept the same way. Both treat the query as words that must all occur, the last one as a
prefix (search-as-you-type), never as the engine's own query syntax: each word is one quoted
term, so no operator, column filter or other dataset's prefix can be written into it.
"""

from __future__ import annotations

import re

from django.db import connection
from django.db.models import QuerySet
from django.db.models.expressions import RawSQL

FTS_TABLE = "datasets_app_example_fts"
POSTGRES_TABLE = "datasets_app_example_search"
# Letters and digits only: the underscore (a \w character) separates words in both engines'
# tokenizers, and a query word must be one term there so that it keeps the dataset prefix.
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
MAX_WORDS = 12
MAX_WORD_CHARS = 100
# The tsquery of the words in %s (text[]), each normalized by the tokenizer that built the
# index, each lexeme prefixed with %s, those of the last word (number %s) as prefixes. A word is
# letters and digits only, so quote_literal() cannot meet a quote or a backslash.
POSTGRES_QUERY = (
    "(SELECT string_agg(quote_literal(%s || v.lexeme) || "
    "CASE WHEN w.n = %s THEN ':*' ELSE '' END, ' & ')::tsquery "
    "FROM unnest(%s::text[]) WITH ORDINALITY AS w(word, n), "
    "unnest(to_tsvector('simple'::regconfig, w.word)) AS v)"
)


def search_words(text: str) -> list[str]:
    """The words of a query, lower-cased, at most ``MAX_WORDS`` of at most ``MAX_WORD_CHARS``;
    everything that is not a letter or a digit separates words and is dropped."""
    return [w.lower()[:MAX_WORD_CHARS] for w in _WORD.findall(text or "")][:MAX_WORDS]


def dataset_term_prefix(dataset_id: int) -> str:
    """What every indexed term of one dataset's examples starts with: ``d<id>x``.

    The ``x`` ends the id, so no dataset's prefix is the start of another's (``d7x`` vs
    ``d70x``) and a prefix query stays inside one dataset's range of terms.
    """
    return f"d{int(dataset_id)}x"


def fts5_match(words: list[str], *, dataset_id: int) -> str:
    """An FTS5 MATCH expression: every word as a quoted term of the dataset, the last one as a
    prefix. Quotes inside a word are doubled, so nothing in it is read as query syntax."""
    prefix = dataset_term_prefix(dataset_id)
    phrases = ['"' + (prefix + w).replace('"', '""') + '"' for w in words]
    if phrases:
        phrases[-1] += "*"
    return " AND ".join(phrases)


def _candidates(words: list[str], dataset_id: int) -> tuple[str, list]:
    """SQL for the ids of the examples of ``dataset_id`` whose index entry holds all ``words``,
    read from the index alone (the terms of other datasets are never addressed)."""
    if connection.vendor == "postgresql":
        sql = f"SELECT example_id FROM {POSTGRES_TABLE} WHERE document @@ {POSTGRES_QUERY}"  # noqa: S608
        return sql, [dataset_term_prefix(dataset_id), len(words), words]
    sql = f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s"  # noqa: S608
    return sql, [fts5_match(words, dataset_id=dataset_id)]


def example_search(qs: QuerySet, text: str, *, dataset_id: int) -> QuerySet:
    """Examples of ``qs`` (examples of ``dataset_id``) whose current revision's message texts
    contain all words of ``text``.

    A query without any word matches nothing rather than everything, so a search box holding
    only punctuation does not silently show the whole dataset.
    """
    words = search_words(text)
    if not words:
        return qs.none()
    # A subquery, not a join, so count() and values_list() (which drop select_related) keep
    # working; both engines answer it from the index, within the dataset's own terms.
    sql, params = _candidates(words, dataset_id)
    return qs.filter(pk__in=RawSQL(sql, params))  # noqa: S611 - constant SQL, words are parameters


def search_windowed() -> bool:
    """Whether :func:`fts_window` is available (SQLite's FTS5 walks matches in rowid order)."""
    return connection.vendor == "sqlite"


def fts_window(
    words: list[str], *, dataset_id: int, cursor: int | None, ascending: bool, limit: int
) -> list[int]:
    """Up to ``limit`` ids of examples of ``dataset_id`` matching ``words``, in id order from
    just past ``cursor``. FTS5 produces them lazily, so a word in every row costs only the
    window, and rows of other datasets are not among them."""
    op, order = (">", "ASC") if ascending else ("<", "DESC")
    where = f"{FTS_TABLE} MATCH %s" + (f" AND rowid {op} %s" if cursor is not None else "")
    params = [fts5_match(words, dataset_id=dataset_id)]
    params += ([cursor] if cursor is not None else []) + [limit]
    with connection.cursor() as c:
        c.execute(
            f"SELECT rowid FROM {FTS_TABLE} WHERE {where} ORDER BY rowid {order} LIMIT %s",  # noqa: S608
            params,
        )
        return [row[0] for row in c.fetchall()]
