"""Exports of a frozen version: read from its entries and their immutable revisions only, so the
same request gives the same bytes forever, whatever happens to the live dataset."""

from __future__ import annotations

import re

from finetunedb.exceptions import ApplicationError
from finetunedb.teams.permissions import Action
from finetunedb.teams.scoping import require_role

from ...formats import EXPORT_FORMATS, Export, ExportRow, unrepresentable_reason, write_export
from ...models import DatasetVersion, Split, VersionEntry

BAD_FORMAT = f"format must be one of {', '.join(EXPORT_FORMATS)}."
BAD_SPLIT = f"split must be one of {', '.join(Split.values)} (or leave it out for all)."
CANNOT_HOLD = (
    "The {format} format cannot hold {count} example(s) of this version without losing part of "
    "them; choose another format, or ask to skip them (skip_unrepresentable=true)."
)
# Formats whose writer accepts every canonical example.
LOSSLESS = ("openai", "parquet")
FIRST_PROBLEMS = 20
CHUNK = 2_000


def _rows(version: DatasetVersion, split: str | None):
    entries = VersionEntry.objects.filter(version=version)
    if split:
        entries = entries.filter(split=split)
    values = entries.order_by("example_id").values_list(
        "example_id", "split", "revision__messages", "revision__tools", "revision__metadata"
    )
    for example_id, entry_split, messages, tools, metadata in values.iterator(chunk_size=CHUNK):
        content = {"messages": messages}
        if tools:
            content["tools"] = tools
        if metadata:
            content["metadata"] = metadata
        yield ExportRow(content, example_id, entry_split)


def export_filename(version: DatasetVersion, export: Export, split: str | None) -> str:
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", version.dataset.name).strip("-") or "dataset"
    suffix = f"-{split}" if split else ""
    return f"{stem}-v{version.number}{suffix}-{export.format}.{export.extension}"


def dataset_version_export(
    *,
    user,
    version: DatasetVersion,
    format: str = "openai",
    split: str | None = None,
    include_metadata: bool = False,
    compress: bool = False,
    skip_unrepresentable: bool = False,
) -> Export:
    """An iterable of byte chunks of the version in ``format`` (see datasets_app.formats).

    Without ``skip_unrepresentable``, a format that cannot hold some example is refused (400,
    naming the first ones) before a byte is streamed; with it those rows are left out and listed
    in ``export.skipped`` afterwards."""
    require_role(user, version.dataset.team_id, Action.EXPORT)
    if format not in EXPORT_FORMATS:
        raise ApplicationError(BAD_FORMAT, errors=[{"path": "format", "message": BAD_FORMAT}])
    split = split or None
    if split is not None and split not in Split.values:
        raise ApplicationError(BAD_SPLIT, errors=[{"path": "split", "message": BAD_SPLIT}])
    if format not in LOSSLESS and not skip_unrepresentable:
        problems = []
        count = 0
        for row in _rows(version, split):
            reason = unrepresentable_reason(row.content, format)
            if reason:
                count += 1
                if len(problems) < FIRST_PROBLEMS:
                    problems.append({"path": f"examples[{row.id}]", "message": reason})
        if count:
            raise ApplicationError(
                CANNOT_HOLD.format(format=format, count=count),
                code="unrepresentable",
                errors=problems,
            )
    return write_export(
        _rows(version, split),
        format=format,
        compress=compress,
        on_unrepresentable="skip" if skip_unrepresentable else "error",
        include_metadata=include_metadata,
    )
