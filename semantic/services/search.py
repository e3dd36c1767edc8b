"""Semantic search over a dataset's stored embeddings: exact cosine against every row.

The model a dataset was embedded with is that of its latest successful embedding job; the query
is embedded with the same model by the serving engine (``POST /embed``,
serving/engine/embeddings.py), never in the web process, so torch stays out of it (DESIGN §8).
An engine that is down or does not offer the model is a 503 that says what to start. Only rows
of examples' *current* revisions count, so an edit made after the last job drops the old vector
from the results rather than showing stale text. On PostgreSQL with pgvector the rows are read
from there instead of the matrix file, with the same scores (pgvector_store.py).
"""

from __future__ import annotations

import threading

import numpy as np

from datasets_app.models import Dataset

from ..models import EmbeddingJob, EmbeddingStatus
from ..store import Embeddings, embeddings_read
from ..vectors import top_k
from .embedding_store import embeddings_folder_for_reading
from .pgvector_store import pgvector_current, pgvector_dimension, pgvector_top_k

MAX_QUERY_CHARS = 2000
MAX_RESULTS = 500
NOT_EMBEDDED = (
    "This dataset has no embeddings yet: POST /api/v1/datasets/{id}/embeddings/ (or Embed on the "
    "dataset page) and search again when the job has finished."
)

UNAVAILABLE = "embedding_service_unavailable"
ENGINE_DOWN = (
    "Searching by meaning needs the serving engine, which embeds your text, and it is not "
    "answering. Start it (make run starts it beside the web server; on its own: python -m "
    "serving.engine.server --models-dir <FINETUNEDB_MODELS_DIR>) and try again. Word search "
    "(?search=, or method=ngram for nearest examples) works without it."
)
MODEL_NOT_SERVED = (
    "The serving engine does not offer the embedding model {model!r} this dataset was embedded "
    "with: restart it with --embedding-model {model} (or with FINETUNEDB_EMBEDDING_MODELS "
    "listing it) and try again. Word search (?search=, or method=ngram) works without it."
)
NOT_A_VECTOR = "its answer is not a vector (is FINETUNEDB_SERVING_URL the serving engine?)."
WRONG_DIMENSION = (
    "its vector has {got} values, the stored embeddings {stored}: the engine serves another "
    "model under that name; point it at the folder the dataset was embedded with."
)
ENGINE_REFUSED = (
    "The serving engine could not embed your text with {model!r}: {reason} Word search "
    "(?search=, or method=ngram) works without it."
)

_cache: dict[str, Embeddings] = {}
_cache_lock = threading.Lock()


def dataset_embedding_model(*, dataset: Dataset) -> str | None:
    """The model of the dataset's latest successful embedding job, None if it has none."""
    return (
        EmbeddingJob.objects.filter(dataset=dataset, status=EmbeddingStatus.SUCCEEDED)
        .order_by("-id")
        .values_list("model_name", flat=True)
        .first()
    )


def _embeddings(folder) -> Embeddings | None:
    # One read per generation and process: the float16 file is memory-mapped, its index kept.
    current = embeddings_read(folder)
    if current is None:
        return None
    with _cache_lock:
        cached = _cache.get(str(folder))
        if cached is not None and cached.generation == current.generation:
            return cached
        _cache[str(folder)] = current
        return current


def query_vector(*, model: str, text: str, dimension: int | None = None) -> np.ndarray:
    """``text`` (cut to MAX_QUERY_CHARS) embedded by the serving engine with ``model``, as the
    float16 row the stored matrix holds; an ApplicationError (503) when the engine cannot, or
    answers anything but one finite vector (of ``dimension`` values, the stored rows', when
    given)."""
    from finetunedb.exceptions import ApplicationError
    from serving.client import EngineRefused, EngineUnavailable, engine_embed

    try:
        rows = engine_embed(model=model, texts=[text[:MAX_QUERY_CHARS]])
        row = _engine_row(rows)
        if row is None:
            raise ApplicationError(
                ENGINE_REFUSED.format(model=model, reason=NOT_A_VECTOR),
                code=UNAVAILABLE,
                status_code=503,
            )
        if dimension is not None and row.size != dimension:
            reason = WRONG_DIMENSION.format(got=row.size, stored=dimension)
            raise ApplicationError(
                ENGINE_REFUSED.format(model=model, reason=reason),
                code=UNAVAILABLE,
                status_code=503,
            )
    except EngineUnavailable as exc:
        raise ApplicationError(ENGINE_DOWN, code=UNAVAILABLE, status_code=503) from exc
    except EngineRefused as exc:
        message = (
            MODEL_NOT_SERVED.format(model=model)
            if exc.status == 404
            else ENGINE_REFUSED.format(model=model, reason=str(exc).rstrip(".") + ".")
        )
        raise ApplicationError(message, code=UNAVAILABLE, status_code=503) from exc
    return row.astype(np.float16)


def _engine_row(rows) -> np.ndarray | None:
    """The one query row of an engine's answer as float32; None unless it is exactly one
    non-empty list of finite numbers (another server on the port, a broken engine: was a 500
    or a ranking by NaN)."""
    if not isinstance(rows, list) or len(rows) != 1 or not isinstance(rows[0], list):
        return None
    if not rows[0] or not all(
        isinstance(v, int | float) and not isinstance(v, bool) for v in rows[0]
    ):
        return None
    row = np.asarray(rows[0], dtype=np.float32)
    return row if np.isfinite(row).all() else None


def dataset_semantic_search(
    *, dataset: Dataset, text: str, limit: int = MAX_RESULTS
) -> list[tuple[int, int, float]] | None:
    """``(revision id, example id, cosine)`` of the rows nearest ``text``, best first; None when
    the dataset was never embedded."""
    model = dataset_embedding_model(dataset=dataset)
    if model is None:
        return None
    held = pgvector_current(dataset_id=dataset.pk, model_name=model)
    if held is not None:  # the rows in PostgreSQL: no matrix to fetch (pgvector_store.py)
        dimension = pgvector_dimension(dataset_id=dataset.pk, model_name=model)
        query = query_vector(model=model, text=text, dimension=dimension)
        return pgvector_top_k(
            dataset_id=dataset.pk,
            model_name=model,
            query=query,
            k=min(limit, MAX_RESULTS),
            rows=held,
        )
    stored = _embeddings(embeddings_folder_for_reading(dataset=dataset, model_name=model))
    if stored is None:
        return None
    query = query_vector(model=model, text=text, dimension=stored.vectors.shape[1])
    rows, scores = top_k(stored.vectors, query, min(limit, MAX_RESULTS))
    return [
        (int(stored.revisions[r]), int(stored.examples[r]), float(s))
        for r, s in zip(rows, scores, strict=True)
    ]


def revisions_nearest(
    *, dataset: Dataset, revision_ids, text: str, k: int
) -> tuple[list[tuple[int, int, float]], int, str] | None:
    """Among ``revision_ids`` (a frozen version's rows, say), the ``k`` whose stored embedding
    is nearest ``text`` by exact cosine, best first, as ``(revision id, example id, cosine)``;
    with the number of those revisions that have no stored embedding and the model's name.
    None when the dataset was never embedded or holds none of them."""
    model = dataset_embedding_model(dataset=dataset)
    if model is None:
        return None
    stored = _embeddings(embeddings_folder_for_reading(dataset=dataset, model_name=model))
    if stored is None:
        return None
    wanted = np.unique(np.asarray(list(revision_ids), dtype=np.int64))
    rows = np.flatnonzero(np.isin(stored.revisions, wanted))
    if rows.size == 0:
        return None
    query = query_vector(model=model, text=text, dimension=stored.vectors.shape[1])
    best, scores = top_k(stored.vectors[rows], query, k)
    picked = rows[best]
    hits = [
        (int(stored.revisions[r]), int(stored.examples[r]), float(s))
        for r, s in zip(picked, scores, strict=True)
    ]
    missing = len(wanted) - len(np.unique(stored.revisions[rows]))
    return hits, missing, model


def example_ids_ranked(*, dataset: Dataset, text: str) -> tuple[list[int], dict[int, float]]:
    """Revision ids nearest ``text`` in order, and each one's cosine (for the list's filter)."""
    found = dataset_semantic_search(dataset=dataset, text=text) or []
    return [rev for rev, _, _ in found], {rev: s for rev, _, s in found}


def examples_semantic_filter(qs, *, dataset: Dataset, text: str):
    """``qs`` narrowed to the examples nearest ``text`` (at most MAX_RESULTS), annotated with
    ``semantic_rank`` (0 is the nearest) and ``semantic_similarity``. A dataset never embedded
    is a 409 that says how to embed it."""
    from django.db.models import Case, FloatField, IntegerField, Value, When

    from finetunedb.exceptions import ApplicationError

    found = dataset_semantic_search(dataset=dataset, text=text)
    if found is None:
        raise ApplicationError(
            NOT_EMBEDDED.format(id=dataset.pk), code="not_embedded", status_code=409
        )
    if not found:
        return qs.none()
    revisions = [rev for rev, _, _ in found]
    rank = Case(
        *[When(current_revision_id=rev, then=Value(i)) for i, rev in enumerate(revisions)],
        output_field=IntegerField(),
    )
    similarity = Case(
        *[When(current_revision_id=rev, then=Value(s)) for rev, _, s in found],
        output_field=FloatField(),
    )
    return qs.filter(current_revision_id__in=revisions).annotate(
        semantic_rank=rank, semantic_similarity=similarity
    )
