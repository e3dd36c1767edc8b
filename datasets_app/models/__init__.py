"""Dataset models, one module per area; import them from here."""

from .checks import CheckResult, Severity
from .examples import (
    DEFAULT_DATASET_SETTINGS,
    Dataset,
    Example,
    ExampleRevision,
    ExampleStatus,
    Split,
    Tag,
)
from .imports import ImportJob, ImportMode, ImportStatus

__all__ = [
    "ImportJob",
    "ImportMode",
    "ImportStatus",
    "CheckResult",
    "Severity",
    "DEFAULT_DATASET_SETTINGS",
    "Dataset",
    "Example",
    "ExampleRevision",
    "ExampleStatus",
    "Split",
    "Tag",
]
