"""Frozen versions: freeze behind quality gates, diff, export, restore (DESIGN §2, §3, §6)."""

from .diff import dataset_version_diff
from .export import dataset_version_export, export_filename
from .freeze import dataset_version_freeze, dataset_version_update, version_gate
from .restore import dataset_version_restore, version_restore_undo
from .selectors import restore_get_for_user, restore_list, version_get_for_user, version_list

__all__ = [
    "dataset_version_diff",
    "dataset_version_export",
    "export_filename",
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
