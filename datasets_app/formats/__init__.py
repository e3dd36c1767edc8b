"""Import and export formats: readers → mappers → writers, streaming, no Django.

Import: :func:`iter_rows` turns an upload into :class:`ParsedRow` / :class:`RowError` items.
Export: :func:`write_export` turns canonical rows into byte chunks of a chosen format.
"""

from .errors import STOP_CODES, Limits, ParsedRow, RowError
from .export import (
    EXPORT_FORMATS,
    Export,
    ExportRow,
    WriteError,
    unrepresentable_reason,
    write_export,
)
from .reader import FORMATS, Detection, RowReader, detect_format, iter_rows
from .rowformats import ROW_FORMATS

__all__ = [
    "EXPORT_FORMATS",
    "Export",
    "ExportRow",
    "WriteError",
    "unrepresentable_reason",
    "write_export",
    "FORMATS",
    "ROW_FORMATS",
    "Detection",
    "Limits",
    "ParsedRow",
    "RowError",
    "RowReader",
    "STOP_CODES",
    "detect_format",
    "iter_rows",
]
