"""A frozen version's examples as the recipe's plain records, and its hash recomputed.

Records are read through the export pipeline's version row source (``version_rows``: the
entries' immutable revisions, never the live examples), so training sees exactly the frozen
content a version export writes, whatever happened to the dataset since.
"""

from __future__ import annotations

from datasets_app import canonical
from datasets_app.models import DatasetVersion, Split, VersionEntry
from datasets_app.services.export import version_rows


def training_splits(version: DatasetVersion) -> dict[str, str | None]:
    """Which split trains, which evaluates during training, which the final evaluation uses.

    Train is the train split, or — for a version whose examples were never split — the
    unassigned ones. Validation is the validation split (or none). The final comparison uses the
    test split, else the validation split.
    """
    counts = version.counts or {}
    train = Split.TRAIN if counts.get(Split.TRAIN) else Split.UNASSIGNED
    validation = Split.VALIDATION if counts.get(Split.VALIDATION) else None
    test = Split.TEST if counts.get(Split.TEST) else validation
    return {"train": train, "validation": validation, "test": test}


def _record(row, *, with_split: bool = False) -> dict:
    record = {"id": row.id, "messages": row.content["messages"]}
    if with_split:
        record["split"] = row.split
    if row.content.get("tools"):
        record["tools"] = row.content["tools"]
    rejected = (row.content.get("metadata") or {}).get("rejected")
    if rejected:
        record["rejected"] = rejected  # a preference pair: dpo and orpo train on both sides
    return record


def preference_pair_counts(version: DatasetVersion, split: str | None) -> tuple[int, int]:
    """``(pairs, examples)`` of one split: how many of its examples carry a rejected answer."""
    if split is None:
        return 0, 0
    entries = VersionEntry.objects.filter(version=version, split=split)
    return entries.filter(revision__metadata__has_key="rejected").count(), entries.count()


def version_records(version: DatasetVersion, split: str | None, *, limit: int | None = None):
    """The version's records of one split, ordered by example id, each with its example ``id``."""
    if split is None:
        return []
    return [_record(row) for row in version_rows(version, split=split, limit=limit)]


def version_record(version: DatasetVersion, example_id) -> dict | None:
    """One example of the version as a record, or None when the version does not hold it."""
    try:
        example_id = int(example_id)
    except (TypeError, ValueError):
        return None
    for row in version_rows(version, example_id=example_id):
        return _record(row, with_split=True)
    return None


def version_hash_recompute(version: DatasetVersion) -> str:
    """The version hash from the revisions' content itself, not from stored hashes."""
    return canonical.version_hash(
        (row.split, canonical.content_hash(row.content["messages"], row.content.get("tools")))
        for row in version_rows(version)
    )
