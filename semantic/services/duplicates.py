"""Semantic duplicates for the dedup job (method ``semantic``): pairs of live examples whose
stored embeddings are at cosine ≥ the threshold. Candidates come from the LSH index of
semantic/vectors.py over the matrix file, or over the same rows read from pgvector where the
dataset's are there (pgvector_store.py); every pair returned was verified by its exact cosine.

Only examples whose *current* revision has a vector are compared: one edited since the last
embedding job waits for the next one (the dedup page says to embed first).
"""

from __future__ import annotations

from datasets_app.dedup.near import DuplicatePair
from datasets_app.models import Dataset, Example, ExampleStatus

from ..store import embeddings_read
from ..vectors import TooManyPairs, cross_pairs, duplicate_pairs
from .embedding_store import embeddings_folder_for_reading
from .pgvector_store import pgvector_current, pgvector_duplicate_pairs
from .search import dataset_embedding_model

NOT_EMBEDDED = (
    "Semantic duplicates compare stored embeddings, and this dataset has none yet: embed it "
    "first (POST /api/v1/datasets/{id}/embeddings/ or Embed on the search-by-meaning page)."
)

CONTAMINATION_NOT_EMBEDDED = (
    "A semantic contamination check compares stored embeddings, and dataset {name!r} has none "
    "yet: embed it first (POST /api/v1/datasets/{id}/embeddings/ or Embed on its Semantic "
    "page), or use method text."
)
MAX_CONTAMINATION_PAIRS = 200_000
TOO_MANY_PAIRS = (
    "More than {limit} pairs are at cosine >= {threshold}: the two datasets are about the same "
    "things, so a threshold this low pairs nearly everything. Raise the threshold (0.9 finds "
    "paraphrases)."
)
DIFFERENT_MODELS = (
    "{a!r} was embedded with {model_a!r} and {b!r} with {model_b!r}; cosines of different "
    "models do not compare: embed {b!r} with {model_a!r} (POST its embeddings/ with that model)."
)


def dataset_is_embedded(*, dataset: Dataset) -> bool:
    return dataset_embedding_model(dataset=dataset) is not None


def semantic_duplicate_pairs(*, dataset_id: int, threshold: float) -> list[DuplicatePair]:
    """Verified pairs ``(example a < example b, cosine)`` among the live examples."""
    dataset = Dataset.objects.get(pk=dataset_id)
    model = dataset_embedding_model(dataset=dataset)
    if model is None:
        return []
    live = set(
        Example.objects.filter(dataset_id=dataset_id)
        .exclude(status=ExampleStatus.ARCHIVED)
        .values_list("current_revision_id", flat=True)
    )
    if pgvector_current(dataset_id=dataset_id, model_name=model) is not None:
        found = pgvector_duplicate_pairs(
            dataset_id=dataset_id, model_name=model, revisions=live, threshold=threshold
        )
        return sorted(DuplicatePair(a, b, min(1.0, s)) for (a, b), s in found.items())
    stored = embeddings_read(embeddings_folder_for_reading(dataset=dataset, model_name=model))
    if stored is None:
        return []
    rows = [i for i, rev in enumerate(stored.revisions.tolist()) if rev in live]
    examples = stored.examples[rows].tolist()
    found = duplicate_pairs(stored.vectors[rows], threshold)
    pairs = []
    for (i, j), similarity in found.items():
        a, b = sorted((examples[i], examples[j]))
        pairs.append(DuplicatePair(a, b, min(1.0, similarity)))
    return sorted(pairs)


def _current_rows(dataset: Dataset, model: str) -> tuple[object, list[int]] | None:
    stored = embeddings_read(embeddings_folder_for_reading(dataset=dataset, model_name=model))
    if stored is None:
        return None
    live = set(
        Example.objects.filter(dataset=dataset)
        .exclude(status=ExampleStatus.ARCHIVED)
        .values_list("current_revision_id", flat=True)
    )
    return stored, [i for i, rev in enumerate(stored.revisions.tolist()) if rev in live]


def semantic_contamination_pairs(
    *, dataset: Dataset, against: Dataset, threshold: float
) -> tuple[list[tuple[int, int, float]], str]:
    """``(example of dataset, example of against, cosine)`` for every pair of live examples
    whose stored embeddings are at cosine ≥ ``threshold`` (exact, all pairs), and the model.
    Both datasets must be embedded with the same model: a 409 says which to embed, and how."""
    from finetunedb.exceptions import ApplicationError, ConflictError

    models = {}
    for side in (dataset, against):
        models[side.pk] = dataset_embedding_model(dataset=side)
        if models[side.pk] is None:
            raise ConflictError(
                CONTAMINATION_NOT_EMBEDDED.format(name=side.name, id=side.pk),
                code="not_embedded",
            )
    model = models[dataset.pk]
    if models[against.pk] != model:
        raise ConflictError(
            DIFFERENT_MODELS.format(
                a=dataset.name, model_a=model, b=against.name, model_b=models[against.pk]
            ),
            code="different_embedding_models",
        )
    left, right = _current_rows(dataset, model), _current_rows(against, model)
    if left is None or right is None:
        return [], model
    (a, rows_a), (b, rows_b) = left, right
    try:
        found = cross_pairs(
            a.vectors[rows_a], b.vectors[rows_b], threshold, limit=MAX_CONTAMINATION_PAIRS
        )
    except TooManyPairs:
        message = TOO_MANY_PAIRS.format(limit=MAX_CONTAMINATION_PAIRS, threshold=threshold)
        raise ApplicationError(
            message, errors=[{"path": "threshold", "message": message}]
        ) from None
    examples_a, examples_b = a.examples[rows_a].tolist(), b.examples[rows_b].tolist()
    pairs = [(examples_a[i], examples_b[j], s) for i, j, s in found]
    return sorted(pairs), model
