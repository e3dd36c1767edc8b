"""Containers: JSON Lines, a JSON array, CSV and Parquet, each yielding ``(line, dict | RowError)``.

A document that cannot be read becomes a :class:`RowError` for its line; a container that cannot
be read any further (corrupt gzip, broken array, malformed CSV) ends with one last error.
"""

from __future__ import annotations

import csv
import shutil
import tempfile

import orjson

from . import errors as E
from .arraysplit import ArrayError, iter_elements
from .jsonparse import parse_json
from .source import BOM, DecodedBudget, SourceError, iter_lines

CONTAINERS = ("jsonl", "json", "csv", "parquet")
PARQUET_MAGIC = b"PAR1"
# Parquet rows are materialised this many at a time, or one at a time when a batch decodes to
# more than PARQUET_BATCH_BYTES (dictionary-encoded values multiply when they are decoded)
PARQUET_BATCH_ROWS = 256
PARQUET_BATCH_BYTES = 32 * 1024 * 1024
EXPORT_LAYOUT = frozenset(("id", "split", "messages", "tools", "metadata"))
EXPORT_ONLY_COLUMNS = frozenset(("id", "split"))
SPOOL_IN_MEMORY = 64 * 1024 * 1024
# logical names a column mapping may target; every row format's fields are among them
MAPPABLE_FIELDS = frozenset(
    (
        "messages", "tools", "metadata", "conversations", "system", "prompt", "completion",
        "instruction", "input", "output", "response", "history", "question", "answer",
        "chosen", "rejected", "instances",
    )
)  # fmt: skip
MSG_UNKNOWN_COLUMN = (
    "The column mapping names {!r}, which is not a column of the file (columns: {})."
)
MSG_UNKNOWN_FIELD = "The column mapping targets {!r}, which is not a field any format uses ({})."
MSG_CSV_WIDTH = "This row has {} cells but the header has {}. Check the quoting of this row."
MSG_NO_HEADER = "The CSV file has no header row."


def sniff_container(head: bytes) -> str | None:
    if head.startswith(PARQUET_MAGIC):
        return "parquet"
    text = head.removeprefix(BOM).lstrip()
    if text[:1] == b"[":
        return "json"
    if text[:1] == b"{" or not text:
        return "jsonl"
    first_line = text.split(b"\n", 1)[0]
    if b"," in first_line or b"\t" in first_line:
        return "csv"
    return None


_STOP_MESSAGES = {
    E.DECOMPRESSED_TOO_LARGE: E.MSG_DECOMPRESSED,
    E.DECODED_TOO_LARGE: E.MSG_DECODED_TOO_LARGE,
    E.QUOTA_EXCEEDED: E.MSG_QUOTA_EXCEEDED,
    E.COMPRESSION_RATIO: E.MSG_COMPRESSION_RATIO,
    E.TOO_MANY_BLANK_LINES: E.MSG_TOO_MANY_BLANK_LINES,
}


def _stopping(error_line, exc) -> E.RowError:
    if isinstance(exc, SourceError):
        template = _STOP_MESSAGES.get(exc.code)
        if template is not None:
            return E.error(error_line, exc.code, template, _number(exc.detail))
        return E.error(error_line, E.INVALID_GZIP, E.MSG_INVALID_GZIP, exc.detail)
    return E.error(exc.line, E.INVALID_JSON, E.MSG_INVALID_JSON_ELEMENT, exc.detail)


def _number(detail: str) -> str:
    return f"{int(detail):,}" if detail.isdigit() else detail


class BlankLines:
    """Counts lines that hold nothing: they cost reading time but give no row."""

    def __init__(self, limits: E.Limits):
        self._cap = limits.max_blank_lines
        self.count = 0

    def add(self) -> None:
        self.count += 1
        if self._cap and self.count > self._cap:
            raise SourceError(E.TOO_MANY_BLANK_LINES, str(self._cap))


def jsonl_documents(buffered, limits: E.Limits):
    max_depth = limits.max_depth
    blank = BlankLines(limits)
    number = 0
    try:
        for number, line in iter_lines(buffered, limits.max_line_bytes):
            if line is None:
                yield (
                    number,
                    E.error(number, E.LINE_TOO_LONG, E.MSG_LINE_TOO_LONG, limits.max_line_bytes),
                )
            elif line.isspace():
                try:
                    blank.add()
                except SourceError as exc:
                    yield number, _stopping(number, exc)
                    return
            else:
                yield number, parse_json(line, number, max_depth)
    except SourceError as exc:
        yield number + 1, _stopping(number + 1, exc)


def json_array_documents(buffered, limits: E.Limits):
    max_depth = limits.max_depth
    line = 1
    try:
        for line, element in iter_elements(buffered.read, limits):
            if type(element) is E.RowError:
                yield line, element
            else:
                yield line, parse_json(element, line, max_depth, element=True)
    except (SourceError, ArrayError) as exc:
        yield line, _stopping(line, exc)


class _CsvStop(Exception):
    def __init__(self, error: E.RowError):
        self.error = error


def _csv_text_lines(buffered, limits: E.Limits, position: list):
    """``position``: [physical line reached, line the current record starts on, its bytes]."""
    for number, line in iter_lines(buffered, limits.max_line_bytes):
        position[0] = number
        # a quoted cell may span lines: the record, not only each line, is held to the row cap
        position[2] += len(line) if line is not None else 0
        if line is None or position[2] > limits.max_line_bytes:
            start = number if line is None else position[1]
            raise _CsvStop(
                E.error(start, E.LINE_TOO_LONG, E.MSG_LINE_TOO_LONG, limits.max_line_bytes)
            )
        try:
            yield line.decode("utf-8")
        except UnicodeDecodeError as bad:
            raise _CsvStop(
                E.error(number, E.INVALID_UTF8, E.MSG_INVALID_UTF8, bad.start + 1)
            ) from None


def csv_documents(buffered, limits: E.Limits, column_mapping: dict | None):
    """Rows as dicts keyed by header (renamed by the mapping); empty cells are left out."""
    if csv.field_size_limit() != limits.csv_field_limit:
        # the csv module's limit is process-wide; every import sets the one its Limits ask for
        csv.field_size_limit(limits.csv_field_limit)
    position = [0, 1, 0]
    blank = BlankLines(limits)
    reader = csv.reader(_csv_text_lines(buffered, limits, position))
    try:
        header = next(reader, None)
        if header is None:
            return
        rename, problem = _column_plan(header, column_mapping or {})
        if problem is not None:
            yield 1, problem
            return
        width = len(header)
        while True:
            start = position[0] + 1
            position[1], position[2] = start, 0
            record = next(reader, None)
            if record is None:
                return
            if not any(record):
                try:
                    blank.add()
                except SourceError as exc:
                    yield start, _stopping(start, exc)
                    return
                continue
            if len(record) != width:
                yield start, E.error(start, E.CSV_INVALID, MSG_CSV_WIDTH, len(record), width)
                continue
            yield (
                start,
                {rename[i]: cell for i, cell in enumerate(record) if cell != "" and rename[i]},
            )
    except _CsvStop as stop:
        yield stop.error.line, stop.error
    except SourceError as exc:
        yield position[0] + 1, _stopping(position[0] + 1, exc)
    except csv.Error as exc:
        line = position[0]
        if "field larger than field limit" in str(exc):
            yield (
                line,
                E.error(line, E.CSV_FIELD_TOO_LARGE, E.MSG_CSV_FIELD, limits.csv_field_limit),
            )
        else:
            yield line, E.error(line, E.CSV_INVALID, E.MSG_CSV_INVALID, str(exc))


def _column_plan(header: list[str], mapping: dict):
    """Column index → field name; unmapped columns keep their own name (later: metadata)."""
    for field, column in mapping.items():
        if field not in MAPPABLE_FIELDS:
            fields = ", ".join(sorted(MAPPABLE_FIELDS))
            return None, E.RowError(1, E.UNKNOWN_FORMAT, MSG_UNKNOWN_FIELD.format(field, fields))
        if column not in header:
            return None, E.RowError(
                1, E.UNKNOWN_FORMAT, MSG_UNKNOWN_COLUMN.format(column, ", ".join(header))
            )
    by_column = {column: field for field, column in mapping.items()}
    return [by_column.get(name, name) for name in header], None


def _spooled(buffered):
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)  # noqa: SIM115 - returned
    shutil.copyfileobj(buffered, spool)
    spool.seek(0)
    return spool


def parquet_documents(
    buffered, limits: E.Limits, column_mapping: dict | None, seekable_source, budget=None
):
    """Row dicts from a Parquet file, read one batch at a time.

    Parquet needs random access: the upload itself is used when it is a seekable, uncompressed
    file; otherwise it is spooled to a temporary file first (within the gzip cap). Before any
    row is decoded the footer's row count and uncompressed size are held to the limits; then
    each batch's decoded size is measured before its rows become Python values, and each row's
    JSON is spent on ``budget``.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    budget = budget if budget is not None else DecodedBudget(limits)
    line = 0
    try:
        source = seekable_source if seekable_source is not None else _spooled(buffered)
        parquet = pq.ParquetFile(source)
        problem = _parquet_footer_problem(parquet.metadata, limits, budget)
        if problem is not None:
            yield 1, problem
            return
        rename = {column: field for field, column in (column_mapping or {}).items()}
        names = parquet.schema_arrow.names
        for column in rename:
            if column not in names:
                yield (
                    1,
                    E.RowError(
                        1, E.UNKNOWN_FORMAT, MSG_UNKNOWN_COLUMN.format(column, ", ".join(names))
                    ),
                )
                return
        # our own export's bookkeeping columns name rows of another dataset: not metadata here
        skip = EXPORT_ONLY_COLUMNS if set(names) == EXPORT_LAYOUT else frozenset()
        for batch in parquet.iter_batches(batch_size=PARQUET_BATCH_ROWS):
            for row in _batch_rows(batch, limits):
                line += 1
                if type(row) is int:
                    yield line, _row_too_long(line, limits)
                    continue
                for column in skip:
                    row.pop(column, None)
                document = _parquet_row(row, rename, line, limits, budget)
                yield line, document
                if type(document) is E.RowError and document.code in E.STOP_CODES:
                    return
    except SourceError as exc:
        yield line + 1, _stopping(line + 1, exc)
    except (pa.ArrowException, OSError) as exc:
        yield line + 1, E.error(line + 1, E.INVALID_PARQUET, E.MSG_INVALID_PARQUET, exc)


def _parquet_footer_problem(metadata, limits: E.Limits, budget: DecodedBudget):
    """A stopping error when the footer alone shows the file is over a limit, else None."""
    if limits.max_rows is not None and metadata.num_rows > limits.max_rows:
        return E.error(1, E.TOO_MANY_ROWS, E.MSG_TOO_MANY_ROWS, limits.max_rows)
    # the data pages' size after decompression: decoding never yields less than this
    uncompressed = sum(
        metadata.row_group(i).total_byte_size for i in range(metadata.num_row_groups)
    )
    try:
        budget.require_room(uncompressed)
    except SourceError as exc:
        return _stopping(1, exc)
    return None


def _batch_rows(batch, limits: E.Limits):
    """The batch's rows as dicts; a row whose decoded size is over the row cap comes as its size
    (an int) without being materialised. Small batches are converted at once (the fast path)."""
    if _decoded_nbytes(batch) <= PARQUET_BATCH_BYTES:
        yield from batch.to_pylist()
        return
    for i in range(batch.num_rows):
        row = batch.slice(i, 1)
        size = _decoded_nbytes(row)
        yield size if size > limits.max_line_bytes else row.to_pylist()[0]


def _decoded_nbytes(batch) -> int:
    """Bytes the batch takes once decoded, without decoding it: a dictionary column counts its
    values' lengths once per row that uses them (Arrow's own size counts the dictionary once)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    total = 0
    for column in batch.columns:
        kind = column.type
        if pa.types.is_dictionary(kind) and _is_text(kind.value_type):
            lengths = pc.binary_length(column.dictionary)
            total += pc.sum(pc.take(lengths, column.indices)).as_py() or 0
            total += column.indices.nbytes
        elif _holds_dictionary(kind):
            # a dictionary nested in lists or structs: each row counts the whole dictionary,
            # an overestimate for a rare layout, never an underestimate
            total += sum(column.slice(i, 1).nbytes for i in range(len(column)))
        else:
            total += column.nbytes
    return total


def _is_text(kind) -> bool:
    import pyarrow as pa

    return (
        pa.types.is_string(kind)
        or pa.types.is_large_string(kind)
        or pa.types.is_binary(kind)
        or pa.types.is_large_binary(kind)
    )


def _holds_dictionary(kind) -> bool:
    import pyarrow as pa

    if pa.types.is_dictionary(kind):
        return True
    return any(_holds_dictionary(kind.field(i).type) for i in range(kind.num_fields))


def _row_too_long(line: int, limits: E.Limits) -> E.RowError:
    return E.error(line, E.LINE_TOO_LONG, E.MSG_LINE_TOO_LONG, limits.max_line_bytes)


def _parquet_row(row: dict, rename: dict, line: int, limits: E.Limits, budget: DecodedBudget):
    # JSON-compatible values only (dates become text), and the same size cap as a JSONL line
    data = orjson.dumps(row, default=str)
    if len(data) > limits.max_line_bytes:
        return _row_too_long(line, limits)
    try:
        budget.spend(len(data))
    except SourceError as exc:
        return _stopping(line, exc)
    row = orjson.loads(data)
    out = {}
    for name, value in row.items():
        if value is None or value == "":
            continue
        name = rename.get(name, name)
        if name == "messages" and type(value) is list:
            value = [_drop_nulls(m) for m in value]
        out[name] = value
    return out


def _drop_nulls(message):
    # Parquet structs give every message every field; absent ones come back as null
    if type(message) is not dict:
        return message
    return {k: v for k, v in message.items() if v is not None or k == "content"}
