"""Objects the server works on in the background, each with ``wait()``.

``job.wait(progress=True)`` polls the job's status route until it is no longer ``queued`` or
``running``, drawing a tqdm bar (on stderr) when tqdm is installed, and returns the finished
job; a ``failed`` or ``cancelled`` job raises :class:`~finetunedb_client.errors.JobFailed`
(``raise_on_failure=False`` returns it instead), and ``timeout`` seconds without an end raise
:class:`~finetunedb_client.errors.JobTimeout` (the job goes on on the server).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from .errors import JobFailed, JobTimeout
from .models import Resource

ACTIVE = frozenset({"queued", "running", "pending"})


PERCENT_FORMAT = "{desc}: {percentage:3.0f}%|{bar}| [{elapsed}<{remaining}]"


def progress_bar(*, total: float, desc: str, enabled: bool, unit: str = "%"):
    """A tqdm bar on stderr, or None when tqdm is missing or ``enabled`` is false. With
    ``unit="%"`` it shows a percentage and times only (no "42.0/100.0 %/s")."""
    if not enabled:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    extra = {"bar_format": PERCENT_FORMAT} if unit == "%" else {}
    return tqdm(total=total, desc=desc, unit=unit, leave=True, dynamic_ncols=True, **extra)


class Job(Resource):
    """Mixin of the job dataclasses: ``status_path``, ``describe`` and ``position`` per kind."""

    status: str = ""

    @property
    def finished(self) -> bool:
        return self.status not in ACTIVE

    @property
    def succeeded(self) -> bool:
        return self.status in ("succeeded", "done")

    def status_path(self) -> str:  # pragma: no cover - each kind says
        raise NotImplementedError

    def position(self) -> tuple[float, float, str]:
        """(done, total, unit) for the bar; (progress*100, 100, "%") by default."""
        return (round(float(self.raw.get("progress") or 0.0) * 100, 1), 100.0, "%")

    def describe(self) -> str:
        return f"{type(self).__name__} {self.id}: {self.status}"

    def refresh(self):
        """Read the job again; updates this object in place and returns it."""
        body = self._client.transport.json("GET", self.status_path())
        fresh = type(self).from_api(body, self._client)
        self.__dict__.update({k: v for k, v in fresh.__dict__.items() if k != "_client"})
        return self

    def wait(
        self,
        *,
        progress: bool = False,
        timeout: float | None = None,
        interval: float = 1.0,
        raise_on_failure: bool = True,
    ):
        start = time.monotonic()
        # A job already finished still gets its (full) bar: the person asked to see the end.
        _, total, unit = self.position()
        bar = progress_bar(total=total, desc=self.describe(), enabled=progress, unit=unit)
        try:
            while True:
                if bar is not None:
                    done, total, _ = self.position()
                    if total and bar.total != total:
                        bar.total = total
                    bar.n = min(done, bar.total or done)
                    bar.set_description_str(self.describe(), refresh=False)
                    bar.refresh()
                if self.finished:
                    break
                if timeout is not None and time.monotonic() - start > timeout:
                    raise JobTimeout(self, f"{self.describe()} after {timeout:.0f} s")
                time.sleep(interval)
                self.refresh()
        finally:
            if bar is not None:
                if self.succeeded:
                    bar.n = bar.total
                    bar.refresh()
                bar.close()
        if raise_on_failure and self.status in ("failed", "cancelled"):
            reason = getattr(self, "failure_reason", "") or self.status
            raise JobFailed(self, f"{self.describe()}: {reason}")
        return self


@dataclass
class ImportJob(Job):
    id: int = 0
    dataset: int = 0
    status: str = ""
    file_name: str = ""
    size_bytes: int = 0
    requested_format: str = ""
    detected_format: str = ""
    mode: str = ""
    progress: float = 0.0
    rows_processed: int = 0
    rows_valid: int = 0
    rows_invalid: int = 0
    duplicates_in_file: int = 0
    duplicates_in_dataset: int = 0
    examples_created: int = 0
    first_errors: list = field(default_factory=list)
    failure_reason: str = ""
    error_report: str | None = None
    created_at: str | None = None
    finished_at: str | None = None

    def status_path(self) -> str:
        return f"imports/{self.id}/"

    def describe(self) -> str:
        return f"import {self.id} ({self.file_name}): {self.status}"

    def error_report_lines(self) -> list[dict]:
        """The full report of bad lines (one dict per line); [] when there is none."""
        if not self.error_report:
            return []
        return self._client.import_errors(self.id)


@dataclass
class DedupJob(Job):
    id: int = 0
    dataset: int = 0
    method: str = ""
    threshold: float = 0.0
    fields: str = ""
    status: str = ""
    stage: str = ""
    progress: float = 0.0
    examples_total: int = 0
    examples_processed: int = 0
    clusters_found: int = 0
    duplicates_found: int = 0
    failure_reason: str = ""
    created_at: str | None = None
    finished_at: str | None = None

    def status_path(self) -> str:
        return f"dedup-jobs/{self.id}/"

    def position(self) -> tuple[float, float, str]:
        if self.examples_total:
            return (self.examples_processed, self.examples_total, "example")
        return super().position()

    def describe(self) -> str:
        return f"dedup {self.id} ({self.method}): {self.stage or self.status}"


@dataclass
class ActionJob(Job):
    """A slow action queued as a job (``freeze(..., wait=False)``, the pages' actions)."""

    id: int = 0
    action: str = ""
    title: str = ""
    status: str = ""
    stage: str = ""
    done: int = 0
    total: int = 0
    progress: float | None = None
    result: Any = None
    result_url: str = ""
    status_url: str = ""
    failure_reason: str = ""
    failure_details: list = field(default_factory=list)
    created_at: str | None = None
    finished_at: str | None = None

    def status_path(self) -> str:
        return f"action-jobs/{self.id}/"

    def position(self) -> tuple[float, float, str]:
        if self.total:
            return (self.done, self.total, "item")
        return super().position()

    def describe(self) -> str:
        return f"{self.title or self.action}: {self.stage or self.status}"


@dataclass
class TrainingRun(Job):
    id: int = 0
    version: int = 0
    dataset: int = 0
    dataset_version_hash: str = ""
    base_model: str = ""
    method: str = ""
    config: dict = field(default_factory=dict)
    seed: int = 0
    status: str = ""
    phase: str = ""
    step: int = 0
    total_steps: int = 0
    progress: float = 0.0
    metrics: list = field(default_factory=list)
    failure_reason: str = ""
    cancel_requested: bool = False
    device: str = ""
    model: int | None = None
    eta_seconds: float | None = None
    created_at: str | None = None
    finished_at: str | None = None

    def status_path(self) -> str:
        return f"training-runs/{self.id}/"

    def position(self) -> tuple[float, float, str]:
        if self.total_steps:
            return (self.step, self.total_steps, "step")
        return super().position()

    def describe(self) -> str:
        return f"training run {self.id}: {self.phase or self.status}"

    def cancel(self):
        return self._client.cancel_training_run(self.id)


@dataclass
class EvalRun(Job):
    id: int = 0
    suite: int = 0
    model: int | None = None
    base_model: str = ""
    model_label: str = ""
    status: str = ""
    processed: int = 0
    total: int = 0
    progress: float = 0.0
    eta_seconds: float | None = None
    metrics: dict = field(default_factory=dict)
    failure_reason: str = ""
    created_at: str | None = None
    finished_at: str | None = None

    def status_path(self) -> str:
        return f"eval-runs/{self.id}/"

    def position(self) -> tuple[float, float, str]:
        if self.total:
            return (self.processed, self.total, "item")
        return super().position()

    def describe(self) -> str:
        return f"eval run {self.id} ({self.model_label}): {self.status}"

    def cancel(self):
        return self._client.cancel_eval_run(self.id)


@dataclass
class Playground(Job):
    id: int = 0
    model: int = 0
    messages: list = field(default_factory=list)
    status: str = ""
    answers: Any = None
    error: str = ""
    created_at: str | None = None
    finished_at: str | None = None

    def status_path(self) -> str:
        return f"playground/{self.id}/"

    @property
    def failure_reason(self) -> str:
        return self.error
