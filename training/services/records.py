"""A frozen version's examples as the recipe's plain records, and its hash recomputed.

Records are read through the entries' immutable revisions, never through the live examples, so
training sees exactly the frozen content whatever happened to the dataset since.
"""

from __future__ import annotations

from datasets_app import canonical
from datasets_app.models import DatasetVersion, Split, VersionEntry

CHUNK = 2_000


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


def version_records(version: DatasetVersion, split: str | None, *, limit: int | None = None):
    """The version's records of one split, ordered by example id, each with its example ``id``."""
    if split is None:
        return []
    values = (
        VersionEntry.objects.filter(version=version, split=split)
        .order_by("example_id")
        .values_list("example_id", "revision__messages", "revision__tools")
    )
    if limit is not None:
        values = values[:limit]
    records = []
    for example_id, messages, tools in values.iterator(chunk_size=CHUNK):
        record = {"id": example_id, "messages": messages}
        if tools:
            record["tools"] = tools
        records.append(record)
    return records


def version_record(version: DatasetVersion, example_id) -> dict | None:
    """One example of the version as a record, or None when the version does not hold it."""
    try:
        example_id = int(example_id)
    except (TypeError, ValueError):
        return None
    row = (
        VersionEntry.objects.filter(version=version, example_id=example_id)
        .values_list("revision__messages", "revision__tools", "split")
        .first()
    )
    if row is None:
        return None
    messages, tools, split = row
    record = {"id": example_id, "messages": messages, "split": split}
    if tools:
        record["tools"] = tools
    return record


def version_hash_recompute(version: DatasetVersion) -> str:
    """The version hash from the revisions' content itself, not from stored hashes."""
    pairs = (
        VersionEntry.objects.filter(version=version)
        .values_list("split", "revision__messages", "revision__tools")
        .iterator(chunk_size=CHUNK)
    )
    return canonical.version_hash(
        (split, canonical.content_hash(messages, tools or None)) for split, messages, tools in pairs
    )
