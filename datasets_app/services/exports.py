"""Exports of the working copy: rows read in id order in chunks, written by the pure writers in
``datasets_app.formats``, streamed — never built in memory."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import orjson
from django.db.models import TextField
from django.db.models.functions import Cast

from finetunedb import faults
from finetunedb.exceptions import ApplicationError
from finetunedb.teams.permissions import Action
from finetunedb.teams.scoping import require_role

from ..formats import EXPORT_FORMATS, Export, ExportRow, unrepresentable_reason, write_export
from ..models import Dataset, Example, ExampleStatus, Split

CHUNK = 2000
# orjson turns integers beyond 64 bits into floats without a word. Canonical messages hold no
# numbers but weight 0|1, so they are decoded by orjson as they are; tools and metadata are free
# JSON, and there only a run of 19+ digits can be such an integer: then Python's json decodes.
_LONG_DIGITS = re.compile(r"[0-9]{19,}")
UNKNOWN_FORMAT = "Unknown format {value!r}; use one of: {choices}."
UNKNOWN_SPLIT = "Unknown split {value!r}; use one of: {choices}."
UNKNOWN_STATUS = "Unknown status {value!r}; use one of: {choices}."
UNREPRESENTABLE = (
    "{count} example(s) cannot be written as {format} without losing content (first: example "
    "{first_id}: {reason}). Export as openai or parquet, or filter them out."
)


def _export_queryset(dataset: Dataset, *, split: str | None, status: str | None):
    qs = Example.objects.filter(dataset=dataset)
    if status:
        statuses = status.split(",")
        bad = [s for s in statuses if s not in ExampleStatus.values]
        if bad:
            raise ApplicationError(
                UNKNOWN_STATUS.format(value=bad[0], choices=", ".join(ExampleStatus.values)),
                errors=[{"path": "status", "message": "unknown status"}],
            )
        qs = qs.filter(status__in=statuses)
    else:
        qs = qs.exclude(status=ExampleStatus.ARCHIVED)
    if split:
        if split not in Split.values:
            raise ApplicationError(
                UNKNOWN_SPLIT.format(value=split, choices=", ".join(Split.values)),
                errors=[{"path": "split", "message": "unknown split"}],
            )
        qs = qs.filter(split=split)
    # The JSON columns come back as text and are decoded here: JSONField decodes with Python's
    # json, which took two thirds of an export's time (bench/export.py).
    return qs.order_by("id").values_list(
        "id",
        "split",
        Cast("current_revision__messages", TextField()),
        Cast("current_revision__tools", TextField()),
        Cast("current_revision__metadata", TextField()),
    )


def _loads(text: str | None):
    if text is None:
        return None
    if _LONG_DIGITS.search(text) is None:
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError:
            pass
    return json.loads(text)


def _rows(queryset) -> Iterator[ExportRow]:
    loads = orjson.loads
    for written, (example_id, split, messages, tools, metadata) in enumerate(
        queryset.iterator(chunk_size=CHUNK)
    ):
        if faults.PLAN is not None:
            faults.fault_point("export.mid_write", n=written)
        content = {"messages": loads(messages), "metadata": _loads(metadata) or {}}
        tools = _loads(tools)
        if tools:
            content["tools"] = tools
        yield ExportRow(content=content, id=example_id, split=split)


def dataset_export(
    *,
    user,
    dataset: Dataset,
    format: str = "openai",
    split: str | None = None,
    status: str | None = None,
    compress: bool = False,
    include_metadata: bool = False,
) -> Export:
    """An iterable of bytes for a streaming response. Lossy formats are checked in a first pass,
    so a request either streams every selected example or fails before the first byte."""
    require_role(user, dataset.team_id, Action.EXPORT)
    if format not in EXPORT_FORMATS:
        raise ApplicationError(
            UNKNOWN_FORMAT.format(value=format, choices=", ".join(EXPORT_FORMATS)),
            errors=[{"path": "format", "message": "unknown format"}],
        )
    queryset = _export_queryset(dataset, split=split, status=status)
    if format not in ("openai", "parquet"):
        problems = [
            (row.id, reason)
            for row in _rows(queryset)
            if (reason := unrepresentable_reason(row.content, format)) is not None
        ]
        if problems:
            raise ApplicationError(
                UNREPRESENTABLE.format(
                    count=len(problems),
                    format=format,
                    first_id=problems[0][0],
                    reason=problems[0][1],
                ),
                code="unrepresentable",
                errors=[{"path": f"examples[{i}]", "message": r} for i, r in problems[:50]],
            )
    return write_export(
        _rows(queryset), format=format, compress=compress, include_metadata=include_metadata
    )
