"""The two row sources of every export (and of training): the working copy and a frozen version.

Both read ``(example id, split, messages, tools, metadata)`` in example id order, in chunks, with
the JSON columns cast to text and decoded here by orjson: JSONField decodes with Python's json,
which took two thirds of an export's time (bench/export.py). A source is re-iterable — each
iteration runs the query again — so the pipeline's lossy pre-pass and its writer read the same
rows. A version is read through its entries' immutable revisions only, never the live examples.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import orjson
from django.db.models import TextField
from django.db.models.functions import Cast

from finetunedb import faults

from ...formats import ExportRow
from ...models import Dataset, DatasetVersion, Example, ExampleStatus, VersionEntry

CHUNK = 2_000
# orjson turns integers beyond 64 bits into floats without a word. Canonical messages hold no
# numbers but weight 0|1, so they are decoded by orjson as they are; tools and metadata are free
# JSON, and there only a run of 19+ digits can be such an integer: then Python's json decodes.
_LONG_DIGITS = re.compile(r"[0-9]{19,}")


class RowSource:
    """The rows of one selection as :class:`ExportRow`, read afresh on every iteration."""

    def __init__(self, values):
        self._values = values

    def __iter__(self) -> Iterator[ExportRow]:
        return _decoded(self._values)


def _loads(text: str | None):
    if text is None:
        return None
    if _LONG_DIGITS.search(text) is None:
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError:
            pass
    return json.loads(text)


def _loads_messages(text: str):
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        # what orjson refuses and Python's json reads (e.g. a lone surrogate escape)
        return json.loads(text)


def _decoded(values) -> Iterator[ExportRow]:
    for read, (example_id, split, messages, tools, metadata) in enumerate(
        values.iterator(chunk_size=CHUNK)
    ):
        if faults.PLAN is not None:
            faults.fault_point("export.mid_write", n=read)
        content = {"messages": _loads_messages(messages), "metadata": _loads(metadata) or {}}
        tools = _loads(tools)
        if tools:
            content["tools"] = tools
        yield ExportRow(content, example_id, split)


def _columns(queryset, example_id: str, prefix: str):
    return queryset.values_list(
        example_id,
        "split",
        Cast(f"{prefix}__messages", TextField()),
        Cast(f"{prefix}__tools", TextField()),
        Cast(f"{prefix}__metadata", TextField()),
    )


def working_copy_rows(
    dataset: Dataset, *, split: str | None = None, statuses: list[str] | None = None
) -> RowSource:
    """The dataset's examples of ``split`` (all when None) whose status is in ``statuses``
    (default: everything not archived). Arguments are already validated by the pipeline."""
    examples = Example.objects.filter(dataset=dataset)
    if statuses:
        examples = examples.filter(status__in=statuses)
    else:
        examples = examples.exclude(status=ExampleStatus.ARCHIVED)
    if split:
        examples = examples.filter(split=split)
    return RowSource(_columns(examples.order_by("id"), "id", "current_revision"))


def version_rows(
    version: DatasetVersion,
    *,
    split: str | None = None,
    example_id: int | None = None,
    limit: int | None = None,
) -> RowSource:
    """The version's entries of ``split`` (all when None), or the one of ``example_id``, at most
    ``limit`` of them, each with its frozen revision's content."""
    entries = VersionEntry.objects.filter(version=version)
    if split:
        entries = entries.filter(split=split)
    if example_id is not None:
        entries = entries.filter(example_id=example_id)
    values = _columns(entries.order_by("example_id"), "example_id", "revision")
    if limit is not None:
        values = values[:limit]
    return RowSource(values)
