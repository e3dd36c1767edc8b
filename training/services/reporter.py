"""The recipe's Reporter for the app: progress, metrics and logs go to the run row, throttled,
through ``finetunedb.leases`` renewals (conditional UPDATEs on the held lease). When one finds
the row no longer ours (the lease expired and another worker claimed it), :class:`LeaseLost`
stops this worker."""

from __future__ import annotations

import math
import time
from typing import Any

from django.utils import timezone

from finetunedb import faults
from finetunedb.leases import lease_held, lease_renew

from ..models import TrainingRun
from .jobs import TRAINING_RUNS

LEASE = TRAINING_RUNS.lease
FLUSH_EVERY_S = 1.0
CANCEL_POLL_S = 1.0
MAX_POINTS = 1000
LOG_LINES = 200
LOG_LINE_CHARS = 500
STEP_FIELDS = (
    "loss",
    "lr",
    "grad_norm",
    "tokens_per_s",
    "memory_mb",
    "trained_tokens",
    "epoch",
    "step_s",
    # dpo and orpo (training.recipe.preference.reward_metrics)
    "rewards_chosen",
    "rewards_rejected",
    "reward_margin",
    "reward_accuracy",
)


class LeaseLost(Exception):  # noqa: N818 - a signal to stop, not an error to report
    """Another worker holds the run now; this one must stop without writing anything."""


def run_mine(run_id: int, attempt: int):
    """The run as long as this worker's claim (attempt number) still holds it."""
    return lease_held(TRAINING_RUNS, pk=run_id, attempt=attempt)


def _compact(value: Any) -> Any:
    if isinstance(value, float):
        return float(f"{value:.6g}") if math.isfinite(value) else None
    return value


def thin(points: list[dict]) -> list[dict]:
    """Halve an over-long series, keeping its first and last points (bounded storage)."""
    if len(points) <= MAX_POINTS:
        return points
    return points[:-1][::2] + [points[-1]]


class RunReporter:
    def __init__(self, run: TrainingRun, attempt: int):
        self.run_id, self.attempt = run.pk, attempt
        self.metrics: list[dict] = list(run.metrics or [])
        self.evals: list[dict] = list(run.evals or [])
        self.log_tail: list[str] = list(run.log_tail or [])
        self.step = run.step
        self.resume_step: int | None = None
        # The pre-flight estimate the worker checked before training: stored with the plan, so
        # finished runs can be compared with it (services/calibration.py).
        self.estimate: dict | None = None
        self._started: float | None = None
        self._dirty = False
        self._last_flush = 0.0
        self._last_cancel_poll = 0.0
        self._cancel = False

    # --- the Reporter protocol --------------------------------------------------------------
    def on_start(self, total_steps: int) -> None:
        # A resumed run restarts at its checkpoint: points logged after it are trained again.
        start = self.resume_step or 0
        self.metrics = [p for p in self.metrics if p["step"] <= start]
        self.evals = [p for p in self.evals if p["step"] <= start]
        self.step = start
        self._started = time.monotonic()
        self.flush(force=True, total_steps=total_steps, phase="training")

    def on_step(self, step: int, metrics: dict[str, Any]) -> None:
        point = {"step": step, **{k: _compact(metrics[k]) for k in STEP_FIELDS if k in metrics}}
        point.update(self._elapsed())
        self.metrics = thin([*self.metrics, point])
        self.step = step
        self._dirty = True
        faults.fault_point("train.after_step", n=step)
        self.flush()

    def on_eval(self, step: int, metrics: dict[str, Any]) -> None:
        point = {"step": step, **{k: _compact(v) for k, v in metrics.items()}}
        self.evals.append({**point, **self._elapsed()})
        self.evals = thin(self.evals)
        self._dirty = True
        self.flush(force=True)

    def on_log(self, line: str) -> None:
        stamp = timezone.now().strftime("%H:%M:%S")
        self.log_tail = [*self.log_tail, f"{stamp} {line[:LOG_LINE_CHARS]}"][-LOG_LINES:]
        self._dirty = True
        self.flush(force=True)

    def should_cancel(self) -> bool:
        now = time.monotonic()
        if not self._cancel and now - self._last_cancel_poll >= CANCEL_POLL_S:
            self._last_cancel_poll = now
            flags = run_mine(self.run_id, self.attempt).values_list("cancel_requested", flat=True)
            found = list(flags)
            if not found:
                raise LeaseLost
            self._cancel = bool(found[0])
        return self._cancel

    def heartbeat(self) -> None:
        self.flush()

    def _elapsed(self) -> dict[str, float]:
        """Seconds since training started in this attempt (a resumed run starts again at 0)."""
        if self._started is None:
            return {}
        return {"elapsed_s": round(time.monotonic() - self._started, 3)}

    # --- writing ----------------------------------------------------------------------------
    def flush(self, *, force: bool = False, **fields: Any) -> None:
        """Write what changed and renew the lease, at most every FLUSH_EVERY_S unless forced."""
        now = time.monotonic()
        if not force and not fields and now - self._last_flush < FLUSH_EVERY_S:
            return
        self._last_flush = now
        if self.estimate is not None and isinstance(fields.get("plan"), dict):
            fields["plan"] = {**fields["plan"], "estimate": self.estimate}
        values = dict(heartbeat_at=timezone.now(), **fields)
        if self._dirty or force:
            values.update(
                step=self.step, metrics=self.metrics, evals=self.evals, log_tail=self.log_tail
            )
            self._dirty = False
        if not lease_renew(TRAINING_RUNS, pk=self.run_id, attempt=self.attempt, **values):
            raise LeaseLost

    def log(self, line: str) -> None:
        self.on_log(line)
