"""The import side: an upload in, canonical rows and line-numbered errors out, streamed.

Usage (what the import job does)::

    reader = iter_rows(upload, format="auto", column_mapping=None, limits=Limits())
    for item in reader:                     # ParsedRow or RowError, in file order
        ...
        progress(reader.bytes_read)         # bytes taken from the upload so far

For every line exactly one of two things happens: it yields ParsedRow(s) (self-instruct rows with
several instances yield one per instance) or one RowError. Blank lines are skipped.
"""

from __future__ import annotations

from collections import Counter
from itertools import chain
from typing import NamedTuple

from . import errors as E
from .containers import (
    CONTAINERS,
    csv_documents,
    json_array_documents,
    jsonl_documents,
    parquet_documents,
    sniff_container,
)
from .messages import MapError
from .rowformats import MAPPERS, ROW_FORMATS, Checked, sniff
from .source import DecodedBudget, budgeted, open_source
from .validate import content_error

DETECT_ROWS = 20
FORMATS = ("auto", *ROW_FORMATS)
PREFERENCE_FORMATS = frozenset(
    ("openai_preference", "sharegpt_preference", "prompt_chosen_rejected")
)
MSG_BAD_FORMAT = "Unknown format {!r}; choose one of {}."
MSG_BAD_CONTAINER = "Unknown container {!r}; choose one of {}."


class Detection(NamedTuple):
    container: str | None
    compressed: bool
    format: str | None


class RowReader:
    """Iterable of :class:`ParsedRow` / :class:`RowError`; see the module docstring."""

    def __init__(
        self, stream, *, format="auto", column_mapping=None, limits=None, container="auto"
    ):
        if format not in FORMATS:
            raise ValueError(MSG_BAD_FORMAT.format(format, ", ".join(FORMATS)))
        if container != "auto" and container not in CONTAINERS:
            raise ValueError(MSG_BAD_CONTAINER.format(container, ", ".join(CONTAINERS)))
        self._stream = stream
        self._limits = limits or E.Limits()
        self._mapping = column_mapping
        self._counter = None
        self._budget = DecodedBudget(self._limits)
        self._documents = None
        self.container = None if container == "auto" else container
        self.compressed = False
        self.format = None if format == "auto" else format
        self._format_given = format != "auto"
        self._detected = False

    @property
    def bytes_read(self) -> int:
        """Bytes taken from the upload so far (compressed bytes for a gzip upload)."""
        return self._counter.bytes_read if self._counter is not None else 0

    @property
    def bytes_decoded(self) -> int:
        """Bytes decoded so far: text after gzip, Parquet rows as JSON (what the caps count)."""
        return self._budget.used

    def detect(self) -> Detection:
        """Pick the container and the row format from the first rows (read once, kept for iteration)."""
        if not self._detected:
            self._detected = True
            self._documents = self._open()
            if self.format is None and self.container is not None:
                head = []
                for document in self._documents:
                    head.append(document)
                    if sum(type(d) is dict for _, d in head) >= DETECT_ROWS:
                        break
                votes = Counter(sniff(d) for _, d in head if type(d) is dict)
                votes.pop(None, None)
                self.format = votes.most_common(1)[0][0] if votes else None
                self._documents = chain(head, self._documents)
        return Detection(self.container, self.compressed, self.format)

    def _open(self):
        limits = self._limits
        self._counter, buffered, self.compressed = open_source(
            self._stream, limits.max_decompressed_bytes, limits.max_compression_ratio
        )
        if self.container is None:
            try:
                head = buffered.peek(64 * 1024)
            except Exception as exc:  # a corrupt gzip header surfaces here
                return iter([(1, E.error(1, E.INVALID_GZIP, E.MSG_INVALID_GZIP, exc))])
            if not head.removeprefix(b"\xef\xbb\xbf"):
                return iter([(1, E.RowError(1, E.EMPTY_FILE, E.MSG_EMPTY_FILE))])
            self.container = sniff_container(head)
            if self.container is None:
                message = E.MSG_UNKNOWN_CONTAINER.format(head[:20])
                return iter([(1, E.RowError(1, E.UNKNOWN_FORMAT, message))])
        if self.container == "parquet":
            seekable = self._stream if not self.compressed and _seekable(self._stream) else None
            if seekable is not None:
                seekable.seek(0)
            return parquet_documents(buffered, limits, self._mapping, seekable, self._budget)
        # text: every decoded byte counts, blank lines and refused rows included
        buffered = budgeted(buffered, self._budget)
        if self.container == "jsonl":
            return jsonl_documents(buffered, limits)
        if self.container == "json":
            return json_array_documents(buffered, limits)
        return csv_documents(buffered, limits, self._mapping)

    def __iter__(self):
        self.detect()
        return self._rows()

    def _rows(self):
        fmt = self.format
        mapper = MAPPERS.get(fmt)
        max_rows = self._limits.max_rows
        count = 0
        for line, document in self._documents:
            if type(document) is E.RowError:
                yield document
                continue
            count += 1
            if max_rows is not None and count > max_rows:
                yield E.error(line, E.TOO_MANY_ROWS, E.MSG_TOO_MANY_ROWS, max_rows)
                return
            if type(document) is not dict:
                yield E.error(line, E.NOT_AN_OBJECT, E.MSG_NOT_AN_OBJECT, _kind(document))
                continue
            if mapper is None:
                fields = ", ".join(sorted(map(str, document))[:10]) or "none"
                if self.container in TABLES:
                    yield E.error(
                        line,
                        E.UNKNOWN_FORMAT,
                        E.MSG_UNKNOWN_COLUMNS,
                        _columns(document),
                        EXPECTED_COLUMNS,
                        mapping_example(document),
                    )
                else:
                    yield E.error(
                        line, E.UNKNOWN_FORMAT, E.MSG_UNKNOWN_FORMAT, fields, ", ".join(ROW_FORMATS)
                    )
                continue
            try:
                mapped = mapper(document)
            except MapError as exc:
                message = exc.message
                if self.container in TABLES and exc.path and exc.path not in document:
                    message = E.MSG_TABLE_FIELD_MISSING.format(
                        message.rstrip("."), _columns(document), mapping_example(document, fmt)
                    )
                yield E.RowError(line, exc.code, message, exc.path)
                continue
            if type(mapped) is Checked:
                yield E.ParsedRow(line, mapped.content, fmt)
            elif type(mapped) is dict:
                problem = content_error(mapped, line)
                if problem is None and fmt in PREFERENCE_FORMATS:
                    problem = _rejected_error(mapped, line)
                yield problem if problem is not None else E.ParsedRow(line, mapped, fmt)
            else:
                problems = [content_error(c, line) for c in mapped]
                first = next((p for p in problems if p is not None), None)
                if first is not None:
                    yield first
                else:
                    for content in mapped:
                        yield E.ParsedRow(line, content, fmt)


TABLES = ("csv", "parquet")
# what a table's header needs, per common format (rowformats.SNIFF_RULES decides)
EXPECTED_COLUMNS = (
    "prompt + completion, question + answer, instruction + output (+ input, Alpaca), "
    "chosen + rejected (+ prompt), or messages (a JSON list of turns)"
)


def _columns(document: dict) -> str:
    # a table's columns in the header's order (a JSON row's fields are listed sorted)
    names = [str(c) for c in document]
    shown = ", ".join(names[:12])
    return (shown + f", … ({len(names)} in all)" if len(names) > 12 else shown) or "none"


def mapping_example(document: dict, fmt: str | None = None) -> str:
    """A column mapping built from the row's own first columns, to show what one looks like.

    >>> mapping_example({"q": "hi", "a": "hello"})
    '{"prompt": "q", "completion": "a"}'
    """
    targets = {
        "question_answer": ("question", "answer"),
        "alpaca": ("instruction", "output"),
        "prompt_chosen_rejected": ("chosen", "rejected"),
    }.get(fmt or "", ("prompt", "completion"))
    columns = [str(c) for c in document][:2] or ["your_prompt_column", "your_answer_column"]
    if len(columns) == 1:
        columns.append("your_answer_column")
    pairs = ", ".join(f'"{t}": "{c}"' for t, c in zip(targets, columns, strict=False))
    return "{" + pairs + "}"


def _rejected_error(content: dict, line: int) -> E.RowError | None:
    rejected = content["metadata"]["rejected"]
    problem = content_error({"messages": rejected}, line)
    if problem is None:
        return None
    path = "metadata.rejected" + (problem.path or "").removeprefix("messages")
    message = problem.message.replace("messages", "metadata.rejected")
    return E.RowError(line, problem.code, message, path)


def _kind(value) -> str:
    return {list: "an array", str: "a string", bool: "true/false", type(None): "null"}.get(
        type(value), "a number"
    )


def _seekable(stream) -> bool:
    try:
        return bool(stream.seekable())
    except (AttributeError, OSError):
        return False


def iter_rows(
    stream, *, format="auto", column_mapping=None, limits=None, container="auto"
) -> RowReader:
    """Read an upload (a binary file object) into :class:`ParsedRow` and :class:`RowError` items.

    ``format`` is a row format name or ``"auto"`` (decided from the first rows); ``container``
    (jsonl, json, csv, parquet) is found from the content unless given; gzip is undone whenever
    the content starts with gzip's magic bytes. ``column_mapping`` renames CSV/Parquet columns to
    the fields of a row format, e.g. ``{"prompt": "question", "completion": "reply"}``.
    """
    return RowReader(
        stream, format=format, column_mapping=column_mapping, limits=limits, container=container
    )


def detect_format(stream, *, column_mapping=None, limits=None) -> Detection:
    """Container, gzip or not, and row format of an upload, from its first rows (consumes them)."""
    return RowReader(stream, column_mapping=column_mapping, limits=limits).detect()
