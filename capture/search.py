"""Text search over logs (``?search=``) through a full-text index, keyed by team.

The words of a log are those of its ``search_text`` (the turns, case-folded): runs of letters
and digits, as :func:`search_words` reads a query, each cut to ``MAX_WORD_CHARS``. The index
holds each distinct word once per log, prefixed with the log's team (``t<id>x<word>``), as the
examples' index prefixes its dataset (``datasets_app.services.search``): a query names only its
own teams' terms, so what it reads, and how long it takes, never depends on which words other
teams' logs hold. A query matches a log holding all its words, the last one as a prefix
(search-as-you-type); :func:`text_matches` answers the same for one row without the index
(capture rules), and :func:`index_terms` is what the ingest writes (``services.log_store``).

SQLite: the FTS5 table ``capture_log_fts`` (rowid = log id, migration 0008) with the ``ascii``
tokenizer, which splits only at ASCII non-alphanumerics and so keeps each of our words one term
(the words are already case-folded; non-ASCII letters stay as they are, as ``search_text``
compares them). A delete trigger removes a deleted log's row. PostgreSQL: the table
``capture_log_search`` (log id, tsvector of the same terms) with a GIN index, rows deleted
with their log by triggers.
"""

from __future__ import annotations

import re

_WORD = re.compile(r"[^\W_]+")
MAX_WORDS = 12
MAX_WORD_CHARS = 100
FTS_TABLE = "capture_log_fts"
FTS_TERMS = "capture_log_fts_instances"  # fts5vocab 'instance': a term seek is one b-tree seek
POSTGRES_TABLE = "capture_log_search"


def team_term_prefix(team_id: int) -> str:
    """``t<id>x``: the ``x`` ends the id, so no team's prefix starts another's."""
    return f"t{int(team_id)}x"


# ASCII letters and digits as they are, every other byte a space: for ASCII text (most logs)
# the words are then split() of the translated bytes, the same runs _WORD finds, at 2.5x speed.
_ASCII_WORD_BYTES = bytes(c if chr(c).isascii() and chr(c).isalnum() else 32 for c in range(256))


def _distinct(words: dict) -> dict:
    # Cut after removing repeats, so the length test reads each distinct word once (a log
    # repeats most of its words); the first occurrence of a cut word comes from the first
    # distinct word that cuts to it, so the order is the one cutting first would give.
    if words and max(map(len, words)) > MAX_WORD_CHARS:
        return dict.fromkeys(w[:MAX_WORD_CHARS] for w in words)
    return words


def text_words(text: str) -> list[str]:
    """The distinct words of an already case-folded text, in first-seen order."""
    if text.isascii():
        words = text.encode().translate(_ASCII_WORD_BYTES).decode().split()
    else:
        words = _WORD.findall(text)
    return list(_distinct(dict.fromkeys(words)))


def search_words(query: str) -> list[str]:
    """The words of a query, case-folded, at most ``MAX_WORDS``; other characters separate
    words and are dropped (so no query syntax of either engine can be written)."""
    return [w[:MAX_WORD_CHARS] for w in _WORD.findall((query or "").casefold())][:MAX_WORDS]


def index_terms(team_id: int, search_text: str) -> list[str]:
    """The index terms of one log of ``team_id``: its distinct words, prefixed."""
    prefix = team_term_prefix(team_id)
    return [prefix + w for w in text_words(search_text)]


def index_document(team_id: int, search_text: str) -> str:
    """``" ".join(index_terms(...))`` in one join: the text the FTS5 row holds.

    ASCII text (most logs) stays bytes from the split to the join and is decoded once: the
    words are then bytes objects, a little cheaper to make, hash and join (12.8 -> 10.5 us a
    bench log, where it was a fifth of the ingest path)."""
    if search_text.isascii():
        words = _distinct(dict.fromkeys(search_text.encode().translate(_ASCII_WORD_BYTES).split()))
        if not words:
            return ""
        prefix = team_term_prefix(team_id).encode()
        return (prefix + (b" " + prefix).join(words)).decode()
    words = text_words(search_text)
    if not words:
        return ""
    prefix = team_term_prefix(team_id)
    return prefix + (" " + prefix).join(words)


def text_matches(query: str, search_text: str) -> bool:
    """Whether a log whose ``search_text`` is this matches ``?search=query`` — what the index
    answers: every word present, the last one as a prefix of a word; no word matches nothing."""
    words = search_words(query)
    if not words:
        return False
    have = set(text_words(search_text))
    *whole, last = words
    return all(w in have for w in whole) and any(h.startswith(last) for h in have)


def _quoted(term: str) -> str:
    return '"' + term + '"'  # a term is letters and digits: nothing to escape


def fts5_match(words: list[str], team_ids: list[int], completions: dict | None = None) -> str:
    """An FTS5 MATCH expression: for each team, all words as its terms, the last one as the OR
    of its ``completions[team]`` (looked up in the index) or else as a prefix query."""
    alternatives = []
    for team in team_ids:
        prefix = team_term_prefix(team)
        terms = [_quoted(prefix + w) for w in words]
        found = (completions or {}).get(team)
        if found:
            terms[-1] = "(" + " OR ".join(_quoted(t) for t in found) + ")"
        else:
            terms[-1] += "*"
        alternatives.append("(" + " AND ".join(terms) + ")")
    return " OR ".join(alternatives)


def postgres_query(words: list[str], team_ids: list[int]) -> str:
    """The tsquery text of the same question (lexemes quoted, the last one ``:*``)."""
    alternatives = []
    for team in team_ids:
        prefix = team_term_prefix(team)
        terms = [f"'{prefix}{w}'" for w in words]
        terms[-1] += ":*"
        alternatives.append("(" + " & ".join(terms) + ")")
    return " | ".join(alternatives)


def postgres_document(terms: list[str]) -> str:
    """A tsvector literal of ``terms`` (letters and digits: quoting cannot meet a quote)."""
    return " ".join(f"'{t}'" for t in terms)
