"""What the import pipeline yields when a line cannot become an example, and the limits it enforces.

Every problem is a :class:`RowError` with a stable ``code`` (the API and the error report key on
it) and a message a person can act on. Messages are module constants; ``{}`` fields are filled
with ``str.format``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

# The strict JSON parser's refusals (one implementation, in the project's lowest layer): the
# import pipeline reports them with the same codes and messages as its own.
from finetunedb.strictjson import (  # noqa: F401 (re-exported)
    DEFAULT_MAX_DEPTH,
    DUPLICATE_KEY,
    INTEGER_OUT_OF_RANGE,
    INVALID_JSON,
    INVALID_UTF8,
    LONE_SURROGATE,
    MSG_DUPLICATE_KEY,
    MSG_INTEGER_OUT_OF_RANGE,
    MSG_INVALID_JSON,
    MSG_INVALID_JSON_ELEMENT,
    MSG_INVALID_UTF8,
    MSG_LONE_SURROGATE,
    MSG_NAN,
    MSG_NUL,
    MSG_TOO_DEEP,
    NAN_NOT_ALLOWED,
    NUL_CHARACTER,
    TOO_DEEP,
    RowError,
    error,
)

MIB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """Caps applied while an upload is decoded, before any row reaches the database."""

    # one row, decoded: a JSONL line, a JSON array element, a CSV record (all its physical
    # lines), a Parquet row as JSON; checked before it is parsed or materialised
    max_line_bytes: int = 8 * MIB
    # nesting of arrays and objects inside one row
    max_depth: int = DEFAULT_MAX_DEPTH
    # total bytes a gzip upload may expand to; reading stops as soon as it is passed
    max_decompressed_bytes: int = 2048 * MIB
    # rows (not lines) a file may hold; None means no cap
    max_rows: int | None = None
    # characters in one CSV cell (the csv module's own default)
    csv_field_limit: int = 131_072
    # bytes the whole file may decode to (text after gzip; Parquet rows as JSON); reading stops
    max_decoded_bytes: int = 8192 * MIB
    # bytes left in the team's storage quota (None: no quota); decoding past it stops reading
    quota_room_bytes: int | None = None
    # gzip: output over input past the first RATIO_GRACE_BYTES of output stops reading; 0 = off
    max_compression_ratio: int = 100
    # lines holding nothing (JSONL and CSV lines, JSON array lines between elements); 0 = off
    max_blank_lines: int = 100_000


# gzip output below this is never refused for its ratio (a small file of repeats is fine)
RATIO_GRACE_BYTES = MIB


class ParsedRow(NamedTuple):
    """One example read from an upload: canonical ``content`` (with metadata) and where it came from."""

    line: int
    content: dict
    source_format: str


NOT_AN_OBJECT = "not_an_object"
LINE_TOO_LONG = "line_too_long"
CSV_FIELD_TOO_LARGE = "csv_field_too_large"
CSV_INVALID = "invalid_csv"
DECOMPRESSED_TOO_LARGE = "decompressed_too_large"
INVALID_GZIP = "invalid_gzip"
INVALID_PARQUET = "invalid_parquet"
UNKNOWN_FORMAT = "unknown_format"
WRONG_FORMAT = "wrong_format"
INVALID_CONTENT = "invalid_content"
INVALID_METADATA_KEY = "invalid_metadata_key"
UNSUPPORTED_PART = "unsupported_part"
TOO_MANY_ROWS = "too_many_rows"
EMPTY_FILE = "empty_file"
DECODED_TOO_LARGE = "decoded_too_large"
QUOTA_EXCEEDED = "quota_exceeded"
COMPRESSION_RATIO = "compression_ratio_too_high"
TOO_MANY_BLANK_LINES = "too_many_blank_lines"
# errors after which the file is not read any further: the import fails whole, whatever its mode
STOP_CODES = frozenset(
    (
        DECOMPRESSED_TOO_LARGE,
        DECODED_TOO_LARGE,
        QUOTA_EXCEEDED,
        COMPRESSION_RATIO,
        TOO_MANY_BLANK_LINES,
    )
)

MSG_NOT_AN_OBJECT = "Expected a JSON object ({{...}}) but found {}. Each row must be an object."
MSG_LINE_TOO_LONG = (
    "This row is longer than the limit of {} bytes (FINETUNEDB_MAX_DECODED_ROW_BYTES); it was "
    "not read. Split or shorten it."
)
MSG_CSV_FIELD = "A CSV cell is longer than {} characters. Reading stopped here."
MSG_CSV_INVALID = "The CSV is malformed here ({}). Reading stopped here."
MSG_DECOMPRESSED = "The gzip file expands to more than {} bytes, the limit. Reading stopped."
MSG_DECODED_TOO_LARGE = (
    "The file decodes to more than {} bytes, the limit for one file "
    "(FINETUNEDB_MAX_DECODED_BYTES); reading stopped here and nothing was imported. Split the "
    "file into smaller files."
)
MSG_QUOTA_EXCEEDED = (
    "The rows read up to here decode to more than the {} bytes left in this team's storage "
    "quota; reading stopped and nothing was imported. Import a smaller file, delete datasets "
    "the team no longer needs, or ask an admin to raise FINETUNEDB_TEAM_STORAGE_QUOTA_BYTES."
)
MSG_COMPRESSION_RATIO = (
    "The gzip data expands more than {} times (FINETUNEDB_MAX_COMPRESSION_RATIO); reading "
    "stopped and nothing was imported. Upload the file uncompressed, or remove the repeated "
    "filler it compresses so well."
)
MSG_TOO_MANY_BLANK_LINES = (
    "The file has more than {} blank lines (FINETUNEDB_MAX_BLANK_LINES); reading stopped and "
    "nothing was imported. Remove the blank lines."
)
MSG_INVALID_GZIP = "The gzip data is corrupt or truncated ({}). Reading stopped."
MSG_INVALID_PARQUET = "The Parquet file cannot be read ({})."
MSG_UNKNOWN_FORMAT = (
    "The row format was not recognised (fields: {}). Supported formats: {}. "
    "Choose the format explicitly or rename the fields."
)
MSG_UNKNOWN_COLUMNS = (
    "The columns were not recognised (found: {}). Expected the columns of one format, such as {}. "
    "If your columns hold the same things under other names, map them with a column mapping "
    "(the import page's Column mapping field, or column_mapping in the API), e.g. {}."
)
MSG_TABLE_FIELD_MISSING = (
    "{} (columns found: {}). Map one of your columns to it with a column mapping, e.g. {}."
)
MSG_UNKNOWN_CONTAINER = (
    "The file is not JSON Lines, a JSON array, CSV or Parquet (it starts with {!r})."
)
MSG_WRONG_FORMAT = "This row does not fit the {} format: {}."
MSG_INVALID_METADATA_KEY = (
    "The field {!r} cannot be kept as metadata: metadata keys are 1-64 letters, digits or underscores. "
    "Rename or remove it."
)
MSG_UNSUPPORTED_PART = "Content parts of type {!r} cannot be imported (only text). Remove them."
MSG_TOO_MANY_ROWS = "The file has more than {} rows, the limit. Reading stopped."
MSG_EMPTY_FILE = "The file holds no rows."
