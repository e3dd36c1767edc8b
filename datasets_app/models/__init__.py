"""Dataset models, one module per area; import them from here."""

from .checks import CheckResult, Severity
from .dedup import (
    DedupFields,
    DedupJob,
    DedupMethod,
    DedupStatus,
    DuplicateCluster,
    DuplicateClusterMember,
    NotDuplicatePair,
)
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
from .reports import DatasetReport
from .versions import (
    DatasetVersion,
    RestoreChange,
    VersionEntry,
    VersionRestore,
    versions_purge_allowed,
)

__all__ = [
    "DedupFields",
    "DedupJob",
    "DedupMethod",
    "DedupStatus",
    "DuplicateCluster",
    "DuplicateClusterMember",
    "NotDuplicatePair",
    "ImportJob",
    "ImportMode",
    "ImportStatus",
    "CheckResult",
    "DatasetReport",
    "Severity",
    "DEFAULT_DATASET_SETTINGS",
    "Dataset",
    "Example",
    "ExampleRevision",
    "ExampleStatus",
    "Split",
    "Tag",
    "DatasetVersion",
    "VersionEntry",
    "VersionRestore",
    "RestoreChange",
    "versions_purge_allowed",
]
