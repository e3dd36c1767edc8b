"""Semantic duplicates for the dedup job (method ``semantic``): pairs of live examples whose
stored embeddings are at cosine ≥ the threshold. Candidates come from the LSH index of
semantic/vectors.py; every pair returned was verified by its exact cosine.

Only examples whose *current* revision has a vector are compared: one edited since the last
embedding job waits for the next one (the dedup page says to embed first).
"""

from __future__ import annotations

from datasets_app.dedup.near import DuplicatePair
from datasets_app.models import Dataset, Example, ExampleStatus

from ..store import embeddings_read
from ..vectors import duplicate_pairs
from .embedding_models import embeddings_folder
from .search import dataset_embedding_model

NOT_EMBEDDED = (
    "Semantic duplicates compare stored embeddings, and this dataset has none yet: embed it "
    "first (POST /api/v1/datasets/{id}/embeddings/ or Embed on the search-by-meaning page)."
)


def dataset_is_embedded(*, dataset: Dataset) -> bool:
    return dataset_embedding_model(dataset=dataset) is not None


def semantic_duplicate_pairs(*, dataset_id: int, threshold: float) -> list[DuplicatePair]:
    """Verified pairs ``(example a < example b, cosine)`` among the live examples."""
    dataset = Dataset.objects.get(pk=dataset_id)
    model = dataset_embedding_model(dataset=dataset)
    stored = (
        embeddings_read(embeddings_folder(dataset_id=dataset_id, model_name=model))
        if model
        else None
    )
    if stored is None:
        return []
    live = set(
        Example.objects.filter(dataset_id=dataset_id)
        .exclude(status=ExampleStatus.ARCHIVED)
        .values_list("current_revision_id", flat=True)
    )
    rows = [i for i, rev in enumerate(stored.revisions.tolist()) if rev in live]
    examples = stored.examples[rows].tolist()
    found = duplicate_pairs(stored.vectors[rows], threshold)
    pairs = []
    for (i, j), similarity in found.items():
        a, b = sorted((examples[i], examples[j]))
        pairs.append(DuplicatePair(a, b, min(1.0, similarity)))
    return sorted(pairs)
