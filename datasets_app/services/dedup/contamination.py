"""Contamination: which live examples of a dataset also appear, exactly or nearly, in another
dataset of the same team (typically an evaluation set). Texts come from canonical messages, so
an Alpaca import and a chat import of the same content match."""

from __future__ import annotations

from finetunedb.exceptions import ApplicationError, PayloadTooLarge

from ...dedup import contamination, example_text
from ...models import Dataset, DedupFields, Example, ExampleStatus
from .jobs import (
    BAD_FIELDS,
    BAD_SEMANTIC_FIELDS,
    BAD_THRESHOLD,
    MAX_THRESHOLD,
    MIN_THRESHOLD,
    SEMANTIC_THRESHOLD,
)

TEXT, SEMANTIC = "text", "semantic"
METHODS = (TEXT, SEMANTIC)
BAD_METHOD = "method must be text (exact and near, word shingles) or semantic (embeddings)."
TEXT_THRESHOLD = 0.8

# Synchronous within a request: 20k x 20k live examples took well under the request timeout
# on the benchmark machine; beyond that the caller is told to narrow the sets.
MAX_EXAMPLES_PER_SIDE = 20_000
MAX_LISTED = 1000

OTHER_TEAM = "Compare only with a dataset of the same team."
SAME_DATASET = "Choose another dataset; comparing a dataset with itself is deduplication."
TOO_MANY = (
    "Each side may have at most {limit} live examples for a contamination check; "
    "{name!r} has {count}."
)


def _texts(dataset: Dataset, fields: str) -> dict[int, str]:
    rows = (
        Example.objects.filter(dataset=dataset)
        .exclude(status=ExampleStatus.ARCHIVED)
        .values_list("pk", "current_revision__messages")
    )
    return {pk: example_text(messages or [], fields) for pk, messages in rows.iterator(2000)}


def dataset_contamination(
    *,
    dataset: Dataset,
    against: Dataset,
    threshold: float | None = None,
    fields: str = DedupFields.CONVERSATION,
    method: str = TEXT,
) -> dict:
    """Overlapping (dataset example, against example) pairs, exact and near, sorted.

    ``method`` ``semantic`` instead pairs the examples whose stored embeddings are at cosine ≥
    ``threshold`` (default 0.9; both datasets embedded with the same model, or a 409 saying
    what to embed); such overlaps have kind ``semantic``. ``threshold`` defaults to 0.8
    (Jaccard) for ``text``.

    Both datasets must already have been reached through ``dataset_get_for_user`` (read access):
    that is what hides another team's dataset behind a 404. Returns ``{"count", "examples",
    "exact", "near", "overlaps": [{"a", "b", "kind", "similarity"}], "truncated"}``, where
    ``examples`` counts the distinct examples of ``dataset`` that overlap.
    """
    if against.team_id != dataset.team_id:
        raise ApplicationError(OTHER_TEAM, errors=[{"path": "against", "message": OTHER_TEAM}])
    if against.pk == dataset.pk:
        raise ApplicationError(SAME_DATASET, errors=[{"path": "against", "message": SAME_DATASET}])
    if method not in METHODS:
        raise ApplicationError(BAD_METHOD, errors=[{"path": "method", "message": BAD_METHOD}])
    if fields not in DedupFields.values:
        raise ApplicationError(BAD_FIELDS, errors=[{"path": "fields", "message": BAD_FIELDS}])
    if method == SEMANTIC and fields != DedupFields.CONVERSATION:
        raise ApplicationError(
            BAD_SEMANTIC_FIELDS, errors=[{"path": "fields", "message": BAD_SEMANTIC_FIELDS}]
        )
    if threshold is None:
        threshold = SEMANTIC_THRESHOLD if method == SEMANTIC else TEXT_THRESHOLD
    if (
        isinstance(threshold, bool)
        or not isinstance(threshold, int | float)
        or not MIN_THRESHOLD <= threshold <= MAX_THRESHOLD
    ):
        raise ApplicationError(
            BAD_THRESHOLD, errors=[{"path": "threshold", "message": BAD_THRESHOLD}]
        )
    for side in (dataset, against):
        count = Example.objects.filter(dataset=side).exclude(status=ExampleStatus.ARCHIVED).count()
        if count > MAX_EXAMPLES_PER_SIDE:
            raise PayloadTooLarge(
                TOO_MANY.format(limit=MAX_EXAMPLES_PER_SIDE, name=side.name, count=count)
            )
    extra = {}
    if method == SEMANTIC:
        # the semantic app (issue 22) holds the embeddings; imported here only, when asked for
        from semantic.services.duplicates import semantic_contamination_pairs

        pairs, model = semantic_contamination_pairs(
            dataset=dataset, against=against, threshold=threshold
        )
        found = [(a, b, "semantic", s) for a, b, s in pairs]
        extra = {"embedding_model": model}
    else:
        found = [
            (o.a_key, o.b_key, o.kind, o.similarity)
            for o in contamination(
                _texts(dataset, fields), _texts(against, fields), threshold=threshold
            )
        ]
    return {
        "against": against.pk,
        "method": method,
        **extra,
        "threshold": threshold,
        "fields": fields,
        "count": len(found),
        "examples": len({a for a, _, _, _ in found}),
        "exact": sum(kind == "exact" for _, _, kind, _ in found),
        "near": sum(kind == "near" for _, _, kind, _ in found),
        "semantic": sum(kind == "semantic" for _, _, kind, _ in found),
        "overlaps": [
            {"a": a, "b": b, "kind": kind, "similarity": round(s, 4)}
            for a, b, kind, s in found[:MAX_LISTED]
        ],
        "truncated": len(found) > MAX_LISTED,
    }
