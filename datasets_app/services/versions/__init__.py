"""Frozen versions: freeze behind quality gates, diff, restore (DESIGN §2, §3, §6).

Exports of a version are the export pipeline's (``datasets_app.services.export``)."""

# Reads of versions live in the app's one selectors module; kept importable from here for the
# services and callers that reach them as ``services.versions.version_get_for_user``.
from ...selectors import (
    restore_get_for_user,
    restore_list,
    version_get_for_user,
    version_list,
)
from .diff import dataset_version_diff
from .freeze import dataset_version_freeze, dataset_version_update, version_gate
from .restore import dataset_version_restore, version_restore_undo

__all__ = [
    "dataset_version_diff",
    "dataset_version_freeze",
    "dataset_version_update",
    "version_gate",
    "dataset_version_restore",
    "version_restore_undo",
    "restore_get_for_user",
    "restore_list",
    "version_get_for_user",
    "version_list",
]
