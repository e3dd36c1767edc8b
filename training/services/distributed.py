"""A run across several processes: the worker launches the recipe under ``torchrun`` and follows it.

The worker writes the config and the records into ``<run>/launch/``, starts
``python -m torch.distributed.run --standalone --nproc_per_node=N -m training.recipe.cli …`` with
the run folder as ``--out`` (so a later attempt resumes from the newest complete checkpoint), and
while it runs:

* tails the events file rank 0 writes and forwards each event to the run's ``RunReporter``, so
  the run page shows the same live progress as a run trained in the worker;
* renews the lease (the reporter's throttled flush) and polls the cancel flag; a cancel request
  becomes the cancel file, which rank 0 sees between steps (the loop all-reduces it);
* on ``LeaseLost`` (another worker took the run), or any other error here, kills the processes.

The agent is started in its own session with ``PR_SET_PDEATHSIG`` (the kernel SIGKILLs it when
the worker dies, even by ``kill -9``), and each rank sets the same on itself (``--die-with-parent``)
because torchrun starts every rank in a session of its own: nothing outlives the worker.
"""

from __future__ import annotations

import collections
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from training.recipe.events import EventReader, die_with_parent
from training.recipe.reporter import ERR_OOM, TrainingOutOfMemory

from .reporter import RunReporter

POLL_S = 0.2
# Silence this long (no event, not even a heartbeat) means the processes hang: stop them, so a
# stuck collective does not hold the run (and its lease) for ever.
STALLED_AFTER_S = 30 * 60
STOP_GRACE_S = 10.0
LOG_NAME = "processes.log"
MAX_LOG_BYTES = 1 << 20
TAIL_LINES = 15
RANK_LINES = 3
KEPT_LINES = 400
RANK_LINE = re.compile(r"^\[rank(\d+)\]:")
TAIL_CHARS = 1500
OOM_MARKERS = ("CUDA out of memory", "OutOfMemoryError")

FAILED = (
    "The training processes failed (torchrun exit status {code}). Last lines of their output:\n"
    "{tail}"
)
STALLED = "The training processes sent nothing for {minutes} minutes; they were stopped."
LAUNCHING = "training with {n} processes (torchrun --nproc_per_node={n}, {device})"


class TrainingProcessesFailed(RuntimeError):
    """The processes under torchrun ended without a model; the message is written for people."""


def training_processes() -> int:
    """How many processes a run trains in: FINETUNEDB_TRAINING_PROCESSES resolved.

    ``auto`` is the number of visible CUDA GPUs when there are several, else 1; a device pinned by
    FINETUNEDB_TRAINING_DEVICE (``cpu``, ``cuda:1``) means one process too. A number forces it.
    """
    value = str(settings.FINETUNEDB_TRAINING_PROCESSES).strip()
    if value == "auto":
        if settings.FINETUNEDB_TRAINING_DEVICE not in ("", "cuda"):
            return 1
        import torch

        return max(torch.cuda.device_count(), 1)
    if value.isdigit() and int(value) >= 1:
        return int(value)
    # The settings module refuses a bad value at start; this catches one set later (an override).
    raise ImproperlyConfigured(
        settings.BAD_TRAINING_PROCESSES.format(value=settings.FINETUNEDB_TRAINING_PROCESSES)
    )


def cli_command(
    *,
    processes: int,
    files: dict[str, Path],
    out_dir: Path,
    models_dir: Path,
    lineage: dict[str, Any],
    device: str,
    start_from: Path | None = None,
) -> list[str]:
    """The argument list that runs the recipe under torchrun (never through a shell);
    ``start_from``: the parent model's folder of an SFT → DPO run."""
    command = [
        sys.executable, "-m", "torch.distributed.run", "--standalone",
        f"--nproc_per_node={processes}", "-m", "training.recipe.cli",
        "--config", str(files["config"]), "--train", str(files["train"]),
        "--validation", str(files["validation"]), "--out", str(out_dir),
        "--models-dir", str(models_dir), "--lineage", json.dumps(lineage),
        "--events", str(files["events"]), "--cancel-file", str(files["cancel"]),
        "--die-with-parent",
    ]  # fmt: skip
    # A CUDA device is each rank's own (cuda:LOCAL_RANK); any other device is forced on all.
    if device and not device.startswith("cuda"):
        command += ["--device", device]
    if start_from is not None:
        command += ["--start-from", str(start_from)]
    return command


def cli_env(device: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(settings.BASE_DIR), env.get("PYTHONPATH", "")])
    )
    env.setdefault("HF_HUB_OFFLINE", "1")
    env.setdefault("TRANSFORMERS_OFFLINE", "1")
    env.setdefault("HF_DATASETS_OFFLINE", "1")
    if device == "cpu":
        # The recipe picks NCCL whenever CUDA is visible; CPU processes need gloo.
        env["CUDA_VISIBLE_DEVICES"] = ""
    return env


def spawn(command: list[str], *, cwd: Path, env: dict[str, str]) -> subprocess.Popen:
    """Start ``command`` in its own session, SIGKILLed by the kernel when this process dies;
    stdout and stderr together in ``proc.stdout``."""
    # An argument list from our own paths and settings, no shell.
    return subprocess.Popen(  # noqa: S603
        command,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        preexec_fn=die_with_parent,  # one prctl call; libc was loaded before the fork
    )


def stop(proc: subprocess.Popen) -> None:
    """Kill the agent's session; its ranks follow by their parent-death signal."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait(timeout=STOP_GRACE_S)


class OutputLog:
    """Copies the processes' output to ``<run>/processes.log`` (at most MAX_LOG_BYTES) and keeps
    its last lines for the failure reason."""

    def __init__(self, stream, path: Path):
        self.tail: collections.deque[str] = collections.deque(maxlen=KEPT_LINES)
        self._stream, self._path = stream, path
        self._thread = threading.Thread(target=self._copy, daemon=True)
        self._thread.start()

    def _copy(self) -> None:
        written = 0
        with open(self._path, "wb") as log:
            for raw in self._stream:
                if written < MAX_LOG_BYTES:
                    log.write(raw[: MAX_LOG_BYTES - written])
                    log.flush()
                    written += len(raw)
                self.tail.append(raw.decode("utf-8", "replace").rstrip())

    def join(self) -> None:
        self._thread.join(timeout=STOP_GRACE_S)

    def last_lines(self) -> str:
        """The last lines of each rank, rank 0 first (torchrun prefixes them ``[rankN]:``): the
        rank that crashed first is not always the one that failed last. torchrun's own closing
        summary says little; its lines stand in only when no rank wrote anything."""
        # Without the blank lines and those that only underline code (^^^) in a traceback.
        lines = [line for line in self.tail if line.strip("[]:rank0123456789 ^")]
        by_rank: dict[int, list[str]] = {}
        for line in lines:
            match = RANK_LINE.match(line)
            if match:
                by_rank.setdefault(int(match[1]), []).append(line)
        if not by_rank:
            return "\n".join(lines[-TAIL_LINES:])[-TAIL_CHARS:]
        shown = [line for rank in sorted(by_rank) for line in by_rank[rank][-RANK_LINES:]]
        return "\n".join(shown)[:TAIL_CHARS]


class Follower:
    """Forwards the events of one launch to the reporter and remembers how it ended."""

    def __init__(self, reporter: RunReporter):
        self.reporter = reporter
        self.status: str | None = None
        self.error: dict[str, Any] | None = None

    def forward(self, event: dict[str, Any]) -> None:
        kind, r = event.get("event"), self.reporter
        if kind == "plan":
            r.resume_step = event["resume_step"]
            r.flush(
                force=True,
                plan=event["plan"],
                total_steps=event["plan"]["total_steps"],
                device=event["device"],
                library_versions=event["library_versions"],
            )
        elif kind == "start":
            r.on_start(event["total_steps"])
        elif kind == "step":
            r.on_step(event["step"], event["metrics"])
        elif kind == "eval":
            r.on_eval(event["step"], event["metrics"])
        elif kind == "log":
            r.on_log(event["line"])
        elif kind == "heartbeat":
            r.heartbeat()
        elif kind == "phase":
            r.flush(force=True, phase=event["phase"])
        elif kind == "error" and self.error is None:
            self.error = event
        elif kind == "done":
            self.status = event["status"]


def _write_inputs(folder: Path, config: dict, train: list[dict], validation: list[dict]):
    folder.mkdir(parents=True, exist_ok=True)
    files = {name: folder / f"{name}.jsonl" for name in ("train", "validation", "events")}
    files |= {"config": folder / "config.json", "cancel": folder / "cancel"}
    for stale in ("events", "cancel"):
        files[stale].unlink(missing_ok=True)
    files["config"].write_text(json.dumps(config), encoding="utf-8")
    for name, records in (("train", train), ("validation", validation)):
        with open(files[name], "w", encoding="utf-8") as fh:
            fh.writelines(json.dumps(record) + "\n" for record in records)
    return files


def train_in_processes(
    *,
    processes: int,
    config: dict,
    train: list[dict],
    validation: list[dict],
    out_dir: Path,
    models_dir: Path,
    lineage: dict[str, Any],
    reporter: RunReporter,
    device: str,
    start_from: Path | None = None,
) -> str:
    """Train under torchrun with ``processes`` ranks; "completed" (``<out>/model`` written) or
    "cancelled". Raises TrainingOutOfMemory or TrainingProcessesFailed (readable messages),
    LeaseLost from the reporter; the processes never outlive the call. ``start_from``: the
    parent model's folder of an SFT → DPO run."""
    launch = Path(out_dir) / "launch"
    files = _write_inputs(launch, config, train, validation)
    reporter.on_log(LAUNCHING.format(n=processes, device=device or "one GPU each"))
    command = cli_command(
        processes=processes,
        files=files,
        out_dir=Path(out_dir),
        models_dir=Path(models_dir),
        lineage=lineage,
        device=device,
        start_from=start_from,
    )
    proc = spawn(command, cwd=Path(settings.BASE_DIR), env=cli_env(device))
    output = OutputLog(proc.stdout, Path(out_dir) / LOG_NAME)
    follower, events = Follower(reporter), EventReader(files["events"])
    try:
        _follow(proc, follower, events, files["cancel"])
    finally:
        stop(proc)
        output.join()
        for name in ("train", "validation"):
            files[name].unlink(missing_ok=True)  # copies of the data: not kept past the run
    return _outcome(proc.returncode, follower, output)


def _follow(proc, follower: Follower, events: EventReader, cancel_file: Path) -> None:
    last_heard = time.monotonic()
    while True:
        exited = proc.poll() is not None  # before reading: every event of an exited run is read
        for event in events.read():
            follower.forward(event)
            last_heard = time.monotonic()
        if exited:
            return
        if follower.reporter.should_cancel() and not cancel_file.exists():
            cancel_file.touch()
        follower.reporter.flush()
        if time.monotonic() - last_heard > STALLED_AFTER_S:
            raise TrainingProcessesFailed(STALLED.format(minutes=round(STALLED_AFTER_S / 60)))
        time.sleep(POLL_S)


def _outcome(code: int, follower: Follower, output: OutputLog) -> str:
    if follower.status == "cancelled":
        return "cancelled"
    if follower.status == "completed" and code == 0:
        return "completed"
    if follower.error is not None:
        if follower.error["kind"] == TrainingOutOfMemory.__name__:
            raise TrainingOutOfMemory(follower.error["message"])
        raise TrainingProcessesFailed(follower.error["message"])
    tail = output.last_lines()
    for line in reversed(tail.splitlines()):
        if any(marker in line for marker in OOM_MARKERS):
            raise TrainingOutOfMemory(ERR_OOM.format(detail=line.strip()[:200]))
    raise TrainingProcessesFailed(FAILED.format(code=code, tail=tail or "(no output)"))
