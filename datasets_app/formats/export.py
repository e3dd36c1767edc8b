"""The export side: canonical rows in, byte chunks of one format out, streamed and deterministic.

Usage (what the export view does)::

    export = write_export(rows, format="openai", compress=False)
    response = StreamingHttpResponse(export, content_type=export.media_type)

``rows`` is any iterable of :class:`ExportRow` (or dicts with ``content``, ``id``, ``split``).
The same rows give byte-identical output: keys sorted, gzip with mtime 0, Parquet with a fixed
schema, compression and writer version.

Rows a format cannot hold: with ``on_unrepresentable="error"`` (default) the first one raises
:class:`WriteError` *before* its bytes are produced; with ``"skip"`` it is left out and recorded in
``export.skipped`` as ``(id, reason)``. :func:`unrepresentable_reason` answers the same question for
one row, so a caller can check before it starts streaming.
"""

from __future__ import annotations

import zlib
from typing import NamedTuple

import orjson

from .encoders import ENCODERS, Unrepresentable, encode
from .trainer_formats import RENDERED

CHUNK_BYTES = 64 * 1024
PARQUET_ROW_GROUP = 5_000
EXPORT_FORMATS = (*ENCODERS, "parquet", RENDERED)
_DUMP = orjson.OPT_SORT_KEYS | orjson.OPT_APPEND_NEWLINE
MSG_BAD_FORMAT = "Unknown export format {!r}; choose one of {}."
MSG_BAD_POLICY = "on_unrepresentable must be 'error' or 'skip'."
MSG_NO_RENDERER = "The rendered format needs a renderer (a base model's chat template)."


class ExportRow(NamedTuple):
    content: dict
    id: int | str | None = None
    split: str | None = None


class WriteError(ValueError):
    """A row the chosen format cannot hold, raised when ``on_unrepresentable="error"``."""

    def __init__(self, row_id, reason: str):
        super().__init__(f"example {row_id}: {reason}")
        self.row_id = row_id
        self.reason = reason


def unrepresentable_reason(content: dict, format: str, renderer=None) -> str | None:
    """Why ``format`` cannot hold ``content`` without loss, or None when it can (``rendered``
    asks ``renderer``, see :mod:`.trainer_formats`)."""
    if format == "parquet":
        return None
    try:
        if format == RENDERED:
            renderer(content)
        else:
            encode(format, content)
    except Unrepresentable as exc:
        return str(exc)
    return None


class Export:
    """Iterable of ``bytes`` chunks; see the module docstring."""

    def __init__(
        self,
        rows,
        *,
        format="openai",
        compress=False,
        on_unrepresentable="error",
        include_metadata=False,
        renderer=None,
    ):
        if format not in EXPORT_FORMATS:
            raise ValueError(MSG_BAD_FORMAT.format(format, ", ".join(EXPORT_FORMATS)))
        if on_unrepresentable not in ("error", "skip"):
            raise ValueError(MSG_BAD_POLICY)
        if format == RENDERED and renderer is None:
            raise ValueError(MSG_NO_RENDERER)
        self.format = format
        self.compress = compress
        self.skipped: list[tuple] = []
        self.written = 0
        self._rows = rows
        self._policy = on_unrepresentable
        self._include_metadata = include_metadata
        self._renderer = renderer

    @property
    def extension(self) -> str:
        base = "parquet" if self.format == "parquet" else "jsonl"
        return f"{base}.gz" if self.compress else base

    @property
    def media_type(self) -> str:
        if self.compress:
            return "application/gzip"
        return (
            "application/vnd.apache.parquet" if self.format == "parquet" else "application/x-ndjson"
        )

    def __iter__(self):
        chunks = self._parquet() if self.format == "parquet" else self._jsonl()
        return _gzipped(chunks) if self.compress else chunks

    def _refuse(self, row_id, reason: str) -> None:
        if self._policy == "error":
            raise WriteError(row_id, reason)
        self.skipped.append((row_id, reason))

    def _jsonl(self):
        fmt = self.format
        include = self._include_metadata
        fast = fmt == "openai"
        renderer = self._renderer if fmt == RENDERED else None
        dumps = orjson.dumps
        pending = []
        size = 0
        for row in self._rows:
            content, row_id = _content_and_id(row)
            if fast:
                obj = {"messages": content["messages"]}
                if content.get("tools"):
                    obj["tools"] = content["tools"]
                if include and content.get("metadata"):
                    obj["metadata"] = content["metadata"]
            else:
                try:
                    obj = renderer(content) if renderer else encode(fmt, content, include)
                except Unrepresentable as exc:
                    self._refuse(row_id, str(exc))
                    continue
                if renderer and include and content.get("metadata"):
                    obj["metadata"] = content["metadata"]
            line = dumps(obj, option=_DUMP)
            pending.append(line)
            size += len(line)
            self.written += 1
            if size >= CHUNK_BYTES:
                yield b"".join(pending)
                pending = []
                size = 0
        if pending:
            yield b"".join(pending)

    def _parquet(self):
        from .parquet_writer import parquet_chunks

        def counted():
            for row in self._rows:
                self.written += 1
                yield row

        yield from parquet_chunks(counted(), PARQUET_ROW_GROUP)


def _content_and_id(row):
    if type(row) is ExportRow:
        return row.content, row.id
    if isinstance(row, dict) and "content" in row:
        return row["content"], row.get("id")
    return row, None


def _gzipped(chunks):
    # wbits=31 writes a gzip header with mtime 0 and no file name: the same bytes every time
    deflate = zlib.compressobj(6, zlib.DEFLATED, 31)
    for chunk in chunks:
        out = deflate.compress(chunk)
        if out:
            yield out
    yield deflate.flush()


def write_export(
    rows,
    *,
    format="openai",
    compress=False,
    on_unrepresentable="error",
    include_metadata=False,
    renderer=None,
) -> Export:
    """Stream ``rows`` as ``format`` (openai, prompt_completion, alpaca, sharegpt, preference,
    hf_messages, parquet, or rendered with ``renderer``)."""
    return Export(
        rows,
        format=format,
        compress=compress,
        on_unrepresentable=on_unrepresentable,
        include_metadata=include_metadata,
        renderer=renderer,
    )
