"""Exports, one pipeline (DESIGN §6): validate → lossy pre-pass → write, over two row sources.

The rule (tests/test_one_export_pipeline.py enforces it): every export — the API, the pages'
download links, ``manage.py export_examples`` — goes through :mod:`.pipeline`, and every read of
rows to export or to train on goes through :mod:`.sources` (``working_copy_rows``,
``version_rows``). No other module reads a version's revisions' content, builds ``ExportRow``s,
calls the writers of ``datasets_app.formats.export``, or words an export error; entry points
import this package, never its modules' internals or the writers.
"""

from .pipeline import (
    FIRST_PROBLEMS,
    NO_RENDERER,
    UNKNOWN_FORMAT,
    UNKNOWN_SPLIT,
    UNKNOWN_STATUS,
    UNREPRESENTABLE,
    RenderRefused,
    dataset_export,
    dataset_version_export,
    export_filename,
    export_flag,
    renderer_register,
)
from .sources import version_rows, working_copy_rows

__all__ = [
    "FIRST_PROBLEMS",
    "NO_RENDERER",
    "UNKNOWN_FORMAT",
    "UNKNOWN_SPLIT",
    "UNKNOWN_STATUS",
    "UNREPRESENTABLE",
    "RenderRefused",
    "dataset_export",
    "dataset_version_export",
    "export_filename",
    "export_flag",
    "renderer_register",
    "version_rows",
    "working_copy_rows",
]
