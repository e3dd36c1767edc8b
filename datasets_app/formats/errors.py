"""What the import pipeline yields when a line cannot become an example, and the limits it enforces.

Every problem is a :class:`RowError` with a stable ``code`` (the API and the error report key on
it) and a message a person can act on. Messages are module constants; ``{}`` fields are filled
with ``str.format``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

MIB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """Caps applied while an upload is decoded, before any row reaches the database."""

    # one row, decoded: a JSONL line, a JSON array element, a CSV record (all its physical
    # lines), a Parquet row as JSON; checked before it is parsed or materialised
    max_line_bytes: int = 8 * MIB
    # nesting of arrays and objects inside one row
    max_depth: int = 64
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


class RowError(NamedTuple):
    """One line that did not become an example: 1-based ``line``, stable ``code``, advice."""

    line: int
    code: str
    message: str
    path: str | None = None

    def as_dict(self) -> dict:
        return {"line": self.line, "code": self.code, "message": self.message, "path": self.path}


class ParsedRow(NamedTuple):
    """One example read from an upload: canonical ``content`` (with metadata) and where it came from."""

    line: int
    content: dict
    source_format: str


INVALID_JSON = "invalid_json"
NOT_AN_OBJECT = "not_an_object"
INVALID_UTF8 = "invalid_utf8"
LINE_TOO_LONG = "line_too_long"
TOO_DEEP = "too_deep"
NAN_NOT_ALLOWED = "nan_not_allowed"
DUPLICATE_KEY = "duplicate_key"
LONE_SURROGATE = "lone_surrogate"
NUL_CHARACTER = "nul_character"
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
INTEGER_OUT_OF_RANGE = "integer_out_of_range"
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

MSG_INVALID_JSON = "This line is not valid JSON ({}). Each line must hold one JSON object."
MSG_INVALID_JSON_ELEMENT = "This array element is not valid JSON ({})."
MSG_NOT_AN_OBJECT = "Expected a JSON object ({{...}}) but found {}. Each row must be an object."
MSG_INVALID_UTF8 = "This line is not valid UTF-8 (byte {} of the line). Save the file as UTF-8."
MSG_LINE_TOO_LONG = (
    "This row is longer than the limit of {} bytes (FINETUNEDB_MAX_DECODED_ROW_BYTES); it was "
    "not read. Split or shorten it."
)
MSG_TOO_DEEP = "Arrays and objects are nested more than {} levels deep here. Flatten the row."
MSG_NAN = (
    "NaN, Infinity and numbers too large for a double are not valid JSON. Use null or a string."
)
MSG_DUPLICATE_KEY = (
    "The key {!r} appears twice in the same object; only one value can be kept. Remove one."
)
MSG_LONE_SURROGATE = (
    "A \\u escape encodes half of a UTF-16 surrogate pair, which is not text. Fix the escape."
)
MSG_NUL = "Text may not contain the NUL character (\\u0000). Remove it."
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
MSG_INTEGER_OUT_OF_RANGE = (
    "A number here is an integer too large for 64 bits; it would be stored inexactly. "
    "Write it as a string."
)


def error(line: int, code: str, template: str, *args, path: str | None = None) -> RowError:
    return RowError(line, code, template.format(*args), path)
