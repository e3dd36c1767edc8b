"""The one export pipeline: validate → lossy pre-pass → write, over one of two row sources.

``dataset_export`` (the working copy) and ``dataset_version_export`` (a frozen version) differ
only in their row source (:mod:`.sources`); the format check, the pre-pass that refuses a lossy
format before the first byte, ``skip_unrepresentable``, gzip and the writer are the same code,
with one set of messages and one error cap (the constants below). A version's rows come from its
immutable revisions, so the same request gives the same bytes forever (DESIGN §6).
"""

from __future__ import annotations

import re
from typing import TypedDict, Unpack

from finetunedb.exceptions import ApplicationError
from finetunedb.teams.permissions import Action
from finetunedb.teams.scoping import require_role

from ...formats import EXPORT_FORMATS, Export, unrepresentable_reason, write_export
from ...formats.encoders import Unrepresentable
from ...models import Dataset, DatasetVersion, ExampleStatus, Split
from .sources import RowSource, version_rows, working_copy_rows

UNKNOWN_FORMAT = "Unknown format {value!r}; use one of: {choices}."
NO_RENDERER = "The rendered format is not available here: the training app is not installed."
UNKNOWN_SPLIT = "Unknown split {value!r}; use one of: {choices} (or leave it out for all)."
UNKNOWN_STATUS = "Unknown status {value!r}; use one of: {choices}."
UNREPRESENTABLE = (
    "{count} example(s) cannot be written as {format} without losing content (first: example "
    "{first_id}: {reason}). Export as openai or parquet, filter them out, or leave them out with "
    "skip_unrepresentable=true."
)
# Formats whose writer accepts every canonical example: no pre-pass.
LOSSLESS = ("openai", "parquet", "hf_messages")
# How many refused examples a 400 names in ``errors`` (the message counts them all).
FIRST_PROBLEMS = 20
TRUE = ("1", "true", "yes", "on")


class RenderRefused(Exception):
    """A renderer's "this example cannot be rendered" (its message says why)."""


# The ``rendered`` format renders with a base model's chat template and trained spans, which
# belong to the training recipe; datasets_app never imports training (tests/test_layers.py), so
# the training app registers its factory when Django starts (``TrainingConfig.ready``).
_renderer_factory = None


def renderer_register(factory) -> None:
    """``factory(base_model=...)`` returns ``content -> {"text", "trained_spans"}``, raising
    :class:`RenderRefused` for an example it cannot render (or ApplicationError for the model)."""
    global _renderer_factory
    _renderer_factory = factory


def _renderer_for(base_model: str | None):
    if _renderer_factory is None:
        raise ApplicationError(NO_RENDERER, code="format_unavailable")
    render = _renderer_factory(base_model=base_model)

    def checked(content: dict) -> dict:
        try:
            return render(content)
        except RenderRefused as exc:
            raise Unrepresentable(str(exc)) from exc

    return checked


def export_flag(value) -> bool:
    """A yes/no query parameter or option as every export entry point reads it."""
    return str(value or "").strip().lower() in TRUE


def _check_format(format: str) -> None:
    if format not in EXPORT_FORMATS:
        raise ApplicationError(
            UNKNOWN_FORMAT.format(value=format, choices=", ".join(EXPORT_FORMATS)),
            errors=[{"path": "format", "message": f"use one of: {', '.join(EXPORT_FORMATS)}"}],
        )


def _check_split(split: str | None) -> str | None:
    split = split or None
    if split is not None and split not in Split.values:
        raise ApplicationError(
            UNKNOWN_SPLIT.format(value=split, choices=", ".join(Split.values)),
            errors=[{"path": "split", "message": f"use one of: {', '.join(Split.values)}"}],
        )
    return split


def _check_statuses(status: str | None) -> list[str] | None:
    if not status:
        return None
    statuses = status.split(",")
    bad = [s for s in statuses if s not in ExampleStatus.values]
    if bad:
        raise ApplicationError(
            UNKNOWN_STATUS.format(value=bad[0], choices=", ".join(ExampleStatus.values)),
            errors=[
                {"path": "status", "message": f"use one of: {', '.join(ExampleStatus.values)}"}
            ],
        )
    return statuses


def _refuse_lossy(rows: RowSource, format: str, renderer=None) -> None:
    count = 0
    first = None
    problems = []
    for row in rows:
        reason = unrepresentable_reason(row.content, format, renderer)
        if reason is None:
            continue
        count += 1
        if first is None:
            first = (row.id, reason)
        if len(problems) < FIRST_PROBLEMS:
            problems.append({"path": f"examples[{row.id}]", "message": reason})
    if count:
        raise ApplicationError(
            UNREPRESENTABLE.format(count=count, format=format, first_id=first[0], reason=first[1]),
            code="unrepresentable",
            errors=problems,
        )


class ExportOptions(TypedDict, total=False):
    """What every export takes besides its rows (all optional)."""

    format: str  # one of EXPORT_FORMATS; default openai
    compress: bool  # gzip the stream (deterministic: mtime 0, no name)
    include_metadata: bool  # write each example's metadata where the format has room
    skip_unrepresentable: bool  # leave out what a lossy format cannot hold instead of a 400
    base_model: str | None  # whose chat template the rendered format uses; default the bundled


def export_stream(
    rows: RowSource,
    *,
    format: str = "openai",
    compress: bool = False,
    include_metadata: bool = False,
    skip_unrepresentable: bool = False,
    base_model: str | None = None,
) -> Export:
    """Write ``rows`` as ``format``. Without ``skip_unrepresentable`` a lossy format is checked in
    a first pass, so the export streams every row or fails (400) before the first byte; with it
    the rows the format cannot hold are left out and listed in ``export.skipped`` afterwards.
    ``rendered`` renders with ``base_model``'s training tokenizer (a 400 if it is not here)."""
    _check_format(format)
    renderer = None
    if format == "rendered":
        renderer = _renderer_for(base_model)
    if format not in LOSSLESS and not skip_unrepresentable:
        _refuse_lossy(rows, format, renderer)
    return write_export(
        rows,
        format=format,
        compress=compress,
        on_unrepresentable="skip" if skip_unrepresentable else "error",
        include_metadata=include_metadata,
        renderer=renderer,
    )


def dataset_export(
    *,
    user,
    dataset: Dataset,
    split: str | None = None,
    status: str | None = None,
    **options: Unpack[ExportOptions],
) -> Export:
    """The working copy's examples (``status``: comma-separated; default not archived) as an
    iterable of bytes for a streaming response; see :func:`export_stream`."""
    require_role(user, dataset.team_id, Action.EXPORT)
    _check_format(options.get("format", "openai"))
    rows = working_copy_rows(dataset, split=_check_split(split), statuses=_check_statuses(status))
    return export_stream(rows, **options)


def dataset_version_export(
    *, user, version: DatasetVersion, split: str | None = None, **options: Unpack[ExportOptions]
) -> Export:
    """A frozen version's examples, byte-identical every time; see :func:`export_stream`."""
    require_role(user, version.dataset.team_id, Action.EXPORT)
    _check_format(options.get("format", "openai"))
    return export_stream(version_rows(version, split=_check_split(split)), **options)


def export_filename(version: DatasetVersion, export: Export, split: str | None) -> str:
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", version.dataset.name).strip("-") or "dataset"
    suffix = f"-{split}" if split else ""
    return f"{stem}-v{version.number}{suffix}-{export.format}.{export.extension}"
