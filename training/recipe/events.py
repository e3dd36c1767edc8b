"""How the worker and the run's child processes talk: an events file, a cancel file, and death
with the parent.

When the worker launches the recipe under ``torchrun``, rank 0 uses :class:`EventWriter` as its
reporter: every reporter call becomes one line, written whole and flushed at once, so a reader
polling the file sees complete events in order (a last line without its newline is still being
written). Cancelling is a file too: :class:`EventWriter` says stop once ``cancel_file`` exists.

Events, one JSON object a line, ``event`` naming the kind::

    {"event": "plan", "plan": {...}, "resume_step": 4, "device": "cuda:0", "world_size": 2,
     "library_versions": {...}}
    {"event": "start", "total_steps": 12}
    {"event": "step", "step": 5, "metrics": {"loss": 1.2, ...}}
    {"event": "eval", "step": 6, "metrics": {"eval_loss": 1.1, ...}}
    {"event": "log", "line": "checkpoint step-6 written"}
    {"event": "heartbeat"}
    {"event": "phase", "phase": "saving"}
    {"event": "error", "kind": "ConfigError", "message": "...", "rank": 1}
    {"event": "done", "status": "completed", "steps": 12}
"""

from __future__ import annotations

import ctypes
import ctypes.util
import json
import math
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

HEARTBEAT_EVERY_S = 5.0
PR_SET_PDEATHSIG = 1
ORPHANED_EXIT = 70


def die_with_parent() -> None:
    """On Linux, have the kernel SIGKILL this process when its parent dies, however it dies.

    Meant for the first thing a child does, or a ``preexec_fn`` (libc is loaded at import, so the
    forked child only makes the call). If the parent is already gone (re-parented to init), exit
    at once rather than run orphaned. Elsewhere this does nothing.
    """
    if _PRCTL is None:
        return
    if _PRCTL(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    if os.getppid() == 1:
        os._exit(ORPHANED_EXIT)


def _load_prctl():
    if not sys.platform.startswith("linux"):
        return None
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    return libc.prctl


_PRCTL = _load_prctl()


def _plain(value: Any) -> Any:
    # JSON has no NaN or infinity: a diverged loss travels as null, as it is stored on the run.
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def write_event(path: str | os.PathLike, kind: str, /, **fields: Any) -> None:
    """Append one event to ``path`` as a single write (lines from several ranks never interleave)."""
    line = json.dumps({"event": kind, **_plain(fields)}, allow_nan=False) + "\n"
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line.encode("utf-8"))
    finally:
        os.close(fd)


class EventWriter:
    """A recipe Reporter that writes events to ``path`` and cancels once ``cancel_file`` exists.

    ``heartbeat`` is called per micro-batch; it writes at most one event every
    ``HEARTBEAT_EVERY_S`` so that the reader knows the processes are alive in long phases.
    """

    def __init__(self, path: str | os.PathLike, cancel_file: str | os.PathLike | None = None):
        self.path = Path(path)
        self.cancel_file = Path(cancel_file) if cancel_file else None
        self._last_heartbeat = 0.0

    def emit(self, kind: str, /, **fields: Any) -> None:
        """Append one event of ``kind`` with ``fields`` to the events file."""
        write_event(self.path, kind, **fields)

    def on_start(self, total_steps: int) -> None:
        """Record that training starts with ``total_steps`` steps."""
        self.emit("start", total_steps=total_steps)

    def on_step(self, step: int, metrics: dict[str, Any]) -> None:
        """Record optimizer step ``step`` and its metrics."""
        self.emit("step", step=step, metrics=metrics)

    def on_eval(self, step: int, metrics: dict[str, Any]) -> None:
        """Record an evaluation's metrics at ``step``."""
        self.emit("eval", step=step, metrics=metrics)

    def on_log(self, line: str) -> None:
        """Record a human-readable log line."""
        self.emit("log", line=line)

    def should_cancel(self) -> bool:
        """True once the worker has written the cancel file."""
        return self.cancel_file is not None and self.cancel_file.exists()

    def heartbeat(self) -> None:
        """Write a heartbeat event, at most one every ``HEARTBEAT_EVERY_S`` seconds."""
        now = time.monotonic()
        if now - self._last_heartbeat >= HEARTBEAT_EVERY_S:
            self._last_heartbeat = now
            self.emit("heartbeat")


class EventReader:
    """Reads the events appended to ``path`` since the last call (the file may not exist yet)."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self._offset = 0
        self._partial = b""

    def read(self) -> list[dict[str, Any]]:
        """The complete new events, in order; a line still being written waits for the next call."""
        try:
            with open(self.path, "rb") as fh:
                fh.seek(self._offset)
                data = fh.read()
        except FileNotFoundError:
            return []
        self._offset += len(data)
        *lines, self._partial = (self._partial + data).split(b"\n")
        return [json.loads(line) for line in lines if line.strip()]
