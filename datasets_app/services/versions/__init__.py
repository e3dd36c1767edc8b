"""Frozen versions: freeze behind quality gates, diff, restore (DESIGN §2, §3, §6).

Exports of a version are the export pipeline's (``datasets_app.services.export``); reads of
versions and restores are the app's selectors (``datasets_app.selectors.versions``)."""

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
]
