"""Nearest documents by word n-gram similarity: the training examples behind an eval item.

Pure (numpy and scipy, no Django). A document is a training example's text (its prompt and its
answer); the query is an eval item's prompt. Both become TF-IDF vectors over word 1- and
2-grams — words are runs of letters/digits (``\\w+``), case-folded; term frequency is
sublinear (``1 + ln count``), inverse document frequency smoothed (``ln((1 + N) / (1 + df)) +
1``), each vector L2-normalised — and the similarity is their cosine, in [0, 1]. A query term
the index never saw still counts in the query's norm (with the idf of a term no document holds),
so a query that shares two of its ten words with a document does not read as a near copy.

>>> index = index_build([(1, "Natalia sold clips to 48 friends"), (2, "A train leaves at noon")])
>>> [(i, round(s, 2)) for i, s in index_query(index, "How many clips did Natalia sell?", k=5)]
[(1, 0.14)]

The index is built once per version and saved with :func:`index_save` (an ``.npz`` read back
with ``allow_pickle=False``); :func:`index_query` is one sparse matrix-vector product.
"""

from __future__ import annotations

import math
import os
import re
import tempfile
import zlib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import sparse

METHOD = "ngram"
DESCRIPTION = (
    "cosine similarity of TF-IDF vectors over word 1- and 2-grams (case-folded, sublinear term "
    "frequency, smoothed idf)"
)
# Bumped when tokenisation or weighting changes: a cached index of an older format is rebuilt.
FORMAT = 1
_WORD = re.compile(r"\w+")


def words(text: str) -> list[str]:
    """The text's words, case-folded: ``words("Héllo, WORLD 42")`` → ``['héllo', 'world', '42']``."""
    return _WORD.findall(text.casefold())


def ngrams(text: str) -> list[str]:
    """Word 1- and 2-grams (a bigram is its two words joined by one space)."""
    tokens = words(text)
    return tokens + [f"{a} {b}" for a, b in zip(tokens, tokens[1:], strict=False)]


def _term_id(term: str) -> int:
    # A stable 32-bit hash (Python's hash() differs per process); among millions of distinct
    # n-grams a few collide, which moves a similarity by a hair, never the ranking of copies.
    return zlib.crc32(term.encode("utf-8", "surrogatepass"))


def _weighted(text: str) -> dict[int, float]:
    """``{term id: 1 + ln count}`` of the text's n-grams."""
    counts = Counter(_term_id(t) for t in ngrams(text))
    return {term: 1.0 + math.log(count) for term, count in counts.items()}


@dataclass(frozen=True)
class NgramIndex:
    """``ids[i]`` is row ``i`` of ``matrix`` (documents × terms, rows L2-normalised, stored by
    column); column ``j`` is the term whose hash is ``terms[j]`` (sorted), weighted by
    ``idf[j]``."""

    ids: np.ndarray
    terms: np.ndarray
    idf: np.ndarray
    matrix: sparse.csc_matrix

    @property
    def size(self) -> int:
        return len(self.ids)


def index_build(documents: Iterable[tuple[int, str]]) -> NgramIndex:
    """An index of ``(id, text)`` documents (ids need not be unique; each row keeps its own)."""
    ids, lengths, hashes, data = [], [], [], []
    for doc_id, text in documents:
        weighted = _weighted(text)
        ids.append(doc_id)
        lengths.append(len(weighted))
        hashes.extend(weighted)
        data.extend(weighted.values())
    n = len(ids)
    terms, columns = np.unique(np.asarray(hashes, dtype=np.uint32), return_inverse=True)
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(lengths, out=indptr[1:])
    matrix = sparse.csr_matrix(
        (np.asarray(data, dtype=np.float32), columns.astype(np.int32), indptr),
        shape=(n, len(terms)),
    )
    df = np.bincount(columns, minlength=len(terms))
    idf = (np.log((1.0 + n) / (1.0 + df)) + 1.0).astype(np.float32)
    matrix.data *= idf[matrix.indices]
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1), dtype=np.float32).ravel())
    norms[norms == 0] = 1.0
    matrix.data /= np.repeat(norms, np.diff(indptr))
    # Stored by column: a query reads only the columns of its own terms.
    return NgramIndex(np.asarray(ids, dtype=np.int64), terms, idf, matrix.tocsc())


def index_query(index: NgramIndex, text: str, *, k: int = 10) -> list[tuple[int, float]]:
    """The ``k`` documents most similar to ``text``, nearest first (ties: lower id first), as
    ``(id, similarity)``; documents sharing no n-gram with it are not neighbours."""
    weighted = _weighted(text)
    if not weighted or len(index.terms) == 0 or k <= 0:
        return []
    hashes = np.fromiter(weighted, dtype=np.uint32, count=len(weighted))
    tf = np.fromiter(weighted.values(), dtype=np.float64, count=len(weighted))
    at = np.minimum(np.searchsorted(index.terms, hashes), len(index.terms) - 1)
    known = index.terms[at] == hashes
    unseen_idf = math.log(1.0 + index.size) + 1.0
    weights = tf * np.where(known, index.idf[at].astype(np.float64), unseen_idf)
    if not known.any():
        return []
    scores = index.matrix[:, at[known]] @ (weights[known] / math.sqrt(float(weights @ weights)))
    hits = np.flatnonzero(scores > 1e-9)
    if hits.size > k:
        # The k-th best score, then every hit at least as good (ties at the cut stay in play).
        cut = np.partition(scores[hits], hits.size - k)[hits.size - k]
        hits = hits[scores[hits] >= cut]
    order = sorted(hits.tolist(), key=lambda i: (-scores[i], int(index.ids[i])))[:k]
    return [(int(index.ids[i]), min(1.0, float(scores[i]))) for i in order]


def index_save(index: NgramIndex, path: Path) -> None:
    """Write the index to ``path`` atomically (a reader never sees half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".npz.tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            np.savez(
                fh,
                format=np.asarray([FORMAT]),
                ids=index.ids,
                terms=index.terms,
                idf=index.idf,
                data=index.matrix.data,
                indices=index.matrix.indices,
                indptr=index.matrix.indptr,
                shape=np.asarray(index.matrix.shape),
            )
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def index_load(path: Path) -> NgramIndex | None:
    """The index saved at ``path``, or None when there is none of this format."""
    try:
        with np.load(path, allow_pickle=False) as saved:
            if int(saved["format"][0]) != FORMAT:
                return None
            matrix = sparse.csc_matrix(
                (saved["data"], saved["indices"], saved["indptr"]), shape=tuple(saved["shape"])
            )
            return NgramIndex(saved["ids"], saved["terms"], saved["idf"], matrix)
    except (OSError, KeyError, ValueError):
        return None
