"""A team's storage usage as plain data: its parts, the quota decision, folder sizes on disk,
and the registry of the apps' measures.

No Django here. The app that keeps a part measures it: each registers its parts with
:func:`storage_part_register` in its ``AppConfig.ready`` (datasets_app: uploads, reports,
content; training: models), and ``finetunedb.teams.quota`` composes them, so the teams layer
never imports the apps above it. A quota of 0 means unlimited.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

UNITS = ("bytes", "KiB", "MiB", "GiB", "TiB", "PiB")
PARTS = ("uploads", "reports", "models", "content")
UNKNOWN_PART = "no storage part is called {part!r}; the parts are {parts}"
DUPLICATE_PART = "storage part {part!r} is already measured by {known}"

PartMeasure = Callable[[int], int]  # team id -> bytes the team keeps in that part
_PARTS: dict[str, PartMeasure] = {}


@dataclass(frozen=True)
class StorageUsage:
    """Bytes a team keeps, by part, and the quota they count against (0 = unlimited).

    ``uploads``: stored import files; ``reports``: import error reports; ``models``: published
    model folders and checkpoints runs keep; ``content``: the JSON text of every example revision.
    """

    uploads: int = 0
    reports: int = 0
    models: int = 0
    content: int = 0
    quota: int = 0

    @property
    def total(self) -> int:
        return self.uploads + self.reports + self.models + self.content

    @property
    def unlimited(self) -> bool:
        return self.quota <= 0

    @property
    def remaining(self) -> int | None:
        """Bytes left before the quota (never negative), or None when unlimited."""
        return None if self.unlimited else max(0, self.quota - self.total)

    @property
    def full(self) -> bool:
        """No byte left: nothing that adds files may start."""
        return not self.unlimited and self.total >= self.quota

    @property
    def percent(self) -> int | None:
        """Share of the quota in use, 0–100 (capped for display), or None when unlimited."""
        if self.unlimited:
            return None
        return min(100, self.total * 100 // self.quota)

    def would_exceed(self, incoming: int) -> bool:
        return exceeds(used=self.total, quota=self.quota, incoming=incoming)

    def as_dict(self) -> dict:
        """The API's ``storage`` object."""
        return {
            "used_bytes": self.total,
            "quota_bytes": self.quota,
            "remaining_bytes": self.remaining,
            "parts": {
                "uploads": self.uploads,
                "reports": self.reports,
                "models": self.models,
                "content": self.content,
            },
        }


def exceeds(*, used: int, quota: int, incoming: int) -> bool:
    """Whether adding ``incoming`` bytes to ``used`` passes ``quota`` (0 or less: unlimited).

    Landing exactly on the quota is allowed; one byte more is not.
    """
    return quota > 0 and used + max(0, incoming) > quota


def folder_bytes(path: Path | str) -> int:
    """Sum of the sizes of the regular files under ``path``, 0 when it does not exist.

    Symbolic links are neither followed nor counted (a link to a shared base model is not the
    team's bytes), and files that vanish during the walk (a checkpoint being rotated) are skipped.
    """
    total = 0
    stack = [os.fspath(path)]
    while stack:
        try:
            entries = os.scandir(stack.pop())
        except (FileNotFoundError, NotADirectoryError, PermissionError):
            continue
        with entries:
            for entry in entries:
                try:
                    if entry.is_dir(follow_symlinks=False):
                        stack.append(entry.path)
                    elif entry.is_file(follow_symlinks=False):
                        total += entry.stat(follow_symlinks=False).st_size
                except FileNotFoundError:
                    continue
    return total


def format_bytes(count: int) -> str:
    """``count`` for people: ``"512 bytes"``, ``"1.5 KiB"``, ``"20.0 GiB"`` (binary units)."""
    value = float(max(0, count))
    for unit in UNITS:
        if value < 1024 or unit == UNITS[-1]:
            break
        value /= 1024
    if unit == "bytes":
        return f"{int(value)} bytes"
    return f"{value:.1f} {unit}"


def storage_part_register(part: str, measure: PartMeasure) -> PartMeasure:
    """Let ``measure(team_id) -> bytes`` count ``part`` (one of :data:`PARTS`) from now on.

    Called from the owning app's ``AppConfig.ready``; idempotent for the same function, and a
    part has one owner (a second measure for it raises ValueError)."""
    if part not in PARTS:
        raise ValueError(UNKNOWN_PART.format(part=part, parts=", ".join(PARTS)))
    known = _PARTS.get(part)
    if known is not None and known is not measure:
        raise ValueError(DUPLICATE_PART.format(part=part, known=known.__qualname__))
    _PARTS[part] = measure
    return measure


def storage_part_measure(part: str, *, team_id: int) -> int:
    """Bytes ``part`` holds for the team now; 0 when no installed app keeps that part."""
    if part not in PARTS:
        raise ValueError(UNKNOWN_PART.format(part=part, parts=", ".join(PARTS)))
    measure = _PARTS.get(part)
    return int(measure(team_id)) if measure is not None else 0


def storage_parts_registered() -> dict[str, PartMeasure]:
    """The registered measures by part (a copy)."""
    return dict(_PARTS)
