"""Real ``celery worker`` processes for fault scenarios: started against the test's SQLite file
and a per-test DATA_DIR with the embedded default's filesystem broker, sent tasks the way the web
process sends them, and killed (SIGKILL), frozen (SIGSTOP) or thawed (SIGCONT) as a group."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

from finetunedb import faults

ROOT = Path(__file__).resolve().parents[2]
CELERY = Path(sys.executable).parent / "celery"


class Workers:
    def __init__(self, data_dir: Path, log_dir: Path, **env):
        self.data_dir, self.log_dir, self.extra_env = data_dir, log_dir, env
        self.procs: list[tuple[subprocess.Popen, Path]] = []
        self.broker = data_dir / "broker"
        for name in ("queue", "processed", "control"):
            (self.broker / name).mkdir(parents=True, exist_ok=True)

    def env(self, **extra) -> dict:
        unset = ("CELERY_BROKER_URL", faults.ENV)
        env = {k: v for k, v in os.environ.items() if k not in unset}
        env.update(
            DJANGO_SETTINGS_MODULE="finetunedb.settings.dev",
            DATABASE_URL=f"sqlite:///{connection.settings_dict['NAME']}",
            DATA_DIR=str(self.data_dir),
            HF_HUB_OFFLINE="1",
            TRANSFORMERS_OFFLINE="1",
            **self.extra_env,
            **extra,
        )
        return env

    def start(self, *, queues: str = "default,training", faults_spec: str = "", **extra_env):
        """A worker with one pool process; ``faults_spec`` is its FINETUNEDB_FAULTS."""
        name = f"w{len(self.procs)}"
        log = self.log_dir / f"worker-{name}.log"
        if faults_spec:
            extra_env[faults.ENV] = faults_spec
        with open(log, "wb") as out:
            proc = subprocess.Popen(
                [CELERY, "-A", "finetunedb", "worker", "-Q", queues, "--concurrency", "1"]
                + [
                    "--loglevel",
                    "INFO",
                    "-n",
                    f"{name}@%h",
                    "--without-mingle",
                    "--without-gossip",
                ],
                cwd=ROOT,
                env=self.env(**extra_env),
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.procs.append((proc, log))
        return proc, log

    def send(self, task: str, args: list, queue: str = "default") -> None:
        from celery import Celery

        sender = Celery("sender", broker="filesystem://", set_as_current=False)
        folder = str(self.broker / "queue")
        sender.conf.broker_transport_options = {
            "data_folder_in": folder,
            "data_folder_out": folder,
            "processed_folder": str(self.broker / "processed"),
            "control_folder": str(self.broker / "control"),
        }
        try:
            sender.send_task(task, args=args, queue=queue)
        finally:
            sender.close()

    @staticmethod
    def signal(proc: subprocess.Popen, sig: int) -> None:
        if proc.returncode is None:
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                pass

    def kill(self, proc: subprocess.Popen) -> None:
        self.signal(proc, signal.SIGCONT)  # a stopped process must wake to die
        self.signal(proc, signal.SIGKILL)
        if proc.returncode is None:
            proc.wait(timeout=10)

    def wait_exit(self, proc: subprocess.Popen, timeout: float = 30) -> int:
        """The worker's pool child killed itself (a ``kill`` fault): stop what is left of it."""
        deadline = time.monotonic() + timeout
        log = dict((id(p), lg) for p, lg in self.procs)[id(proc)]
        while time.monotonic() < deadline:
            if b"exited with 'signal 9 (SIGKILL)'" in log.read_bytes() or proc.poll() is not None:
                break
            time.sleep(0.05)
        self.kill(proc)
        return proc.returncode

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        for proc, _ in self.procs:
            self.kill(proc)

    def logs(self) -> str:
        return "\n".join(f"--- {log.name}\n{log.read_text()[-4000:]}" for _, log in self.procs)

    def wait_for(self, predicate, what: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return
            time.sleep(0.05)
        pytest.fail(f"timed out waiting for {what}\n{self.logs()}")
