"""Contamination: which live examples of a dataset also appear, exactly or nearly, in another
dataset of the same team (typically an evaluation set). Texts come from canonical messages, so
an Alpaca import and a chat import of the same content match."""

from __future__ import annotations

from finetunedb.exceptions import ApplicationError, PayloadTooLarge

from ...dedup import contamination, example_text
from ...models import Dataset, DedupFields, Example, ExampleStatus
from .jobs import BAD_FIELDS, BAD_THRESHOLD, MAX_THRESHOLD, MIN_THRESHOLD

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
    threshold: float = 0.8,
    fields: str = DedupFields.CONVERSATION,
) -> dict:
    """Overlapping (dataset example, against example) pairs, exact and near, sorted.

    Both datasets must already have been reached through ``dataset_get_for_user`` (read access):
    that is what hides another team's dataset behind a 404. Returns ``{"count", "examples",
    "exact", "near", "overlaps": [{"a", "b", "kind", "similarity"}], "truncated"}``, where
    ``examples`` counts the distinct examples of ``dataset`` that overlap.
    """
    if against.team_id != dataset.team_id:
        raise ApplicationError(OTHER_TEAM, errors=[{"path": "against", "message": OTHER_TEAM}])
    if against.pk == dataset.pk:
        raise ApplicationError(SAME_DATASET, errors=[{"path": "against", "message": SAME_DATASET}])
    if fields not in DedupFields.values:
        raise ApplicationError(BAD_FIELDS, errors=[{"path": "fields", "message": BAD_FIELDS}])
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
    found = contamination(_texts(dataset, fields), _texts(against, fields), threshold=threshold)
    return {
        "against": against.pk,
        "threshold": threshold,
        "fields": fields,
        "count": len(found),
        "examples": len({o.a_key for o in found}),
        "exact": sum(o.kind == "exact" for o in found),
        "near": sum(o.kind == "near" for o in found),
        "overlaps": [
            {"a": o.a_key, "b": o.b_key, "kind": o.kind, "similarity": round(o.similarity, 4)}
            for o in found[:MAX_LISTED]
        ],
        "truncated": len(found) > MAX_LISTED,
    }
