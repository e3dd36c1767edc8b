"""Full-text search over message content, keyed by dataset (the index is built by migration 0011).

Every term in the index carries its example's dataset (:func:`dataset_term_prefix`), and a query
names only the searched dataset's terms, so what a search reads (and how long it takes) depends
on that dataset alone, never on which words other teams' data holds. SQLite matches the FTS5
table kept in step by triggers; PostgreSQL matches the GIN-indexed ``datasets_app_example_search``
table kept the same way. Both treat the query as words that must all occur, the last one as a
prefix (search-as-you-type), never as the engine's own query syntax: each word is one quoted
term, so no operator, column filter or other dataset's prefix can be written into it.

On SQLite a prefix query (``"d1xitem"*``) makes FTS5 merge the doclists of every term it
matches into one list in memory before yielding the first row: a last word found in every one of
a million rows cost ~90 ms per query whatever the LIMIT, and a page may run several. So the last
word is expanded into the dataset's indexed terms that start with it (:func:`prefix_terms`,
a seek per term in the term b-tree through the ``fts5vocab`` table of migration 0014) and
matched as ``("t1" OR "t2" …)``, which FTS5 walks lazily in rowid order like a single term: the
window (``fts_window``) then costs its own rows, not the matches. A prefix with more than
``MAX_PREFIX_TERMS`` completions keeps the prefix query.
"""

from __future__ import annotations

import re

from django.db import connection
from django.db.models import QuerySet
from django.db.models.expressions import RawSQL

FTS_TABLE = "datasets_app_example_fts"
# fts5vocab(FTS_TABLE, 'instance'): ``term >= ? LIMIT 1`` is a seek in the index's term b-tree
FTS_TERMS = "datasets_app_example_fts_instances"
MAX_PREFIX_TERMS = 64
# Terms the expansion may look up as they are: unicode61 leaves ASCII letters and digits as
# they are (search_words lower-cases), whereas other letters are folded (diacritics removed).
_ASCII_WORD = re.compile(r"[a-z0-9]+")
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


def _quoted(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def fts5_match(words: list[str], *, dataset_id: int, completions: list[str] | None = None) -> str:
    """An FTS5 MATCH expression: every word as a quoted term of the dataset, the last one as a
    prefix, or as the OR of ``completions`` (:func:`prefix_terms`: the same matches, walked
    without materialising them) when there are some. Quotes inside a word are doubled, so
    nothing in it is read as query syntax."""
    prefix = dataset_term_prefix(dataset_id)
    phrases = [_quoted(prefix + w) for w in words]
    if phrases and completions:
        phrases[-1] = "(" + " OR ".join(_quoted(t) for t in completions) + ")"
    elif phrases:  # no completion (the prefix then reads nothing), too many, or not looked up
        phrases[-1] += "*"
    return " AND ".join(phrases)


def fts5_match_expanded(words: list[str], *, dataset_id: int) -> str:
    """:func:`fts5_match` with the last word's completions looked up in the index."""
    if not words:
        return fts5_match(words, dataset_id=dataset_id)
    completions = prefix_terms(dataset_term_prefix(dataset_id) + words[-1])
    return fts5_match(words, dataset_id=dataset_id, completions=completions)


def prefix_terms(term_prefix: str, *, vocab: str = FTS_TERMS) -> list[str] | None:
    """The indexed terms that start with ``term_prefix`` (a dataset's prefix and a word), in
    order; None when there are more than ``MAX_PREFIX_TERMS`` or the word is not plain ASCII
    letters and digits (other letters are stored folded). Each term is one seek: the next one
    is the first term at or after ``term + NUL``, the smallest string greater than it, so the
    instances of a term are never walked. ``vocab``: another ``fts5vocab`` 'instance' table
    whose terms are prefixed the same way (the logs' index, ``capture.search``)."""
    word = term_prefix.partition("x")[2]
    if connection.vendor != "sqlite" or not _ASCII_WORD.fullmatch(word):
        return None
    terms: list[str] = []
    low, high = term_prefix, term_prefix + "\U0010ffff"  # high: no row past the prefix's range
    sql = f"SELECT term FROM {vocab} WHERE term >= %s AND term < %s LIMIT 1"  # noqa: S608
    with connection.cursor() as c:
        while True:
            c.execute(sql, [low, high])
            row = c.fetchone()
            if row is None or not row[0].startswith(term_prefix):
                return terms
            if len(terms) == MAX_PREFIX_TERMS:
                return None
            terms.append(row[0])
            low = row[0] + "\x00"


def _candidates(words: list[str], dataset_id: int) -> tuple[str, list]:
    """SQL for the ids of the examples of ``dataset_id`` whose index entry holds all ``words``,
    read from the index alone (the terms of other datasets are never addressed)."""
    if connection.vendor == "postgresql":
        sql = f"SELECT example_id FROM {POSTGRES_TABLE} WHERE document @@ {POSTGRES_QUERY}"  # noqa: S608
        return sql, [dataset_term_prefix(dataset_id), len(words), words]
    sql = f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s"  # noqa: S608
    return sql, [fts5_match_expanded(words, dataset_id=dataset_id)]


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
    params = [fts5_match_expanded(words, dataset_id=dataset_id)]
    params += ([cursor] if cursor is not None else []) + [limit]
    with connection.cursor() as c:
        c.execute(
            f"SELECT rowid FROM {FTS_TABLE} WHERE {where} ORDER BY rowid {order} LIMIT %s",  # noqa: S608
            params,
        )
        return [row[0] for row in c.fetchall()]
