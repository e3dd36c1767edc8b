"""Named fault points: where a test turns a running process into a crash, a full disk or a stall.

The SQLite test harness idea (crash and I/O-error tests at named sites), applied to the app: the
code calls ``fault_point("import.before_commit")`` at the moments a failure is most damaging, and
a test sets, for the process under test::

    FINETUNEDB_FAULTS="import.after_rows@500=kill;export.mid_write=disk_full;train.after_step=delay:0.5"

Each entry is ``name[@N]=action``. A point called with ``n=`` (rows written, step reached) fires
once ``n >= N``; one called without it fires from its Nth hit on (N defaults to 1). Actions:

* ``kill`` — SIGKILL this process (a worker dying mid-task; nothing runs after it)
* ``disk_full`` — raise ``OSError(ENOSPC)``
* ``raise`` — raise :class:`FaultInjected`
* ``delay:<seconds>`` — sleep (a slow disk, a stalled step: time for a test to act)

The plan is parsed once, at import. Unset, :data:`PLAN` is None and a point costs one function
call and a None check; hot loops test ``faults.PLAN is not None`` before calling. Nothing here
imports Django: the training recipe uses it too.

Points in the code: ``upload.save``, ``import.after_rows`` (n=rows read),
``import.before_publish``, ``import.before_commit``, ``freeze.before_commit``,
``export.mid_write`` (n=rows written), ``train.after_step`` (n=step),
``train.mid_checkpoint_save`` (checkpoint files half written), ``train.before_lineage_write``,
``playground.generate`` (a playground request claimed, its answer not yet written).
"""

from __future__ import annotations

import errno
import logging
import os
import signal
import time
from dataclasses import dataclass

ENV = "FINETUNEDB_FAULTS"
BAD_ENTRY = "FINETUNEDB_FAULTS entry {entry!r} is not name[@N]=kill|disk_full|raise|delay:<s>."
DISK_FULL = "No space left on device (fault point {name})"
RAISED = "fault injected at {name}"

logger = logging.getLogger(__name__)


class FaultInjected(RuntimeError):
    """The ``raise`` action: an unexpected error at a named point."""


@dataclass(frozen=True)
class Fault:
    action: str
    at: int = 1
    seconds: float = 0.0


def parse(spec: str) -> dict[str, Fault]:
    """``"a@3=kill;b=delay:0.5"`` → ``{"a": Fault("kill", 3), "b": Fault("delay", 1, 0.5)}``."""
    plan: dict[str, Fault] = {}
    for entry in filter(None, (part.strip() for part in spec.split(";"))):
        point, sep, action = (s.strip() for s in entry.partition("="))
        name, has_at, at = point.partition("@")
        seconds = 0.0
        if action.startswith("delay:"):
            action, seconds_text = action.split(":", 1)
            try:
                seconds = float(seconds_text)
            except ValueError:
                raise ValueError(BAD_ENTRY.format(entry=entry)) from None
        valid = sep and name and action in ("kill", "disk_full", "raise", "delay")
        if not valid or (has_at and not (at.isdigit() and int(at) >= 1)):
            raise ValueError(BAD_ENTRY.format(entry=entry))
        plan[name] = Fault(action, int(at or 1), seconds)
    return plan


def configure(spec: str | None) -> None:
    """Replace the plan (tests in one process); None or "" turns every point off."""
    global PLAN
    PLAN = parse(spec) or None if spec else None
    _hits.clear()


PLAN: dict[str, Fault] | None = None
_hits: dict[str, int] = {}
configure(os.environ.get(ENV))


def fault_point(name: str, n: int | None = None) -> None:
    if PLAN is None:
        return
    fault = PLAN.get(name)
    if fault is None:
        return
    if n is None:
        n = _hits[name] = _hits.get(name, 0) + 1
    if n < fault.at:
        return
    logger.warning("fault point %s reached (n=%s): %s", name, n, fault.action)
    if fault.action == "kill":
        for handler in logging.getLogger().handlers:
            handler.flush()
        os.kill(os.getpid(), signal.SIGKILL)
    elif fault.action == "disk_full":
        raise OSError(errno.ENOSPC, DISK_FULL.format(name=name))
    elif fault.action == "raise":
        raise FaultInjected(RAISED.format(name=name))
    else:
        time.sleep(fault.seconds)
