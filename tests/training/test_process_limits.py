"""The training worker yields the CPU (issue 16.1): a training-queue task lowers its process's
priority and bounds torch's threads, from settings; a task run eagerly leaves its caller alone."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

APPLY = """
import os, django
django.setup()
from training.process_limits import training_process_limits_apply
before = os.nice(0)
got = training_process_limits_apply()
again = training_process_limits_apply()  # a second task in the same child: no further drop
print(before, got["nice"], got["threads"], again["nice"], os.environ["OMP_NUM_THREADS"])
"""


def _python(code: str, **env: str) -> subprocess.CompletedProcess:
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "finetunedb.settings.test",
        **env,
    }
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_it_lowers_the_priority_and_bounds_the_threads_of_a_training_process():
    done = _python(APPLY, FINETUNEDB_TRAINING_NICE="7", FINETUNEDB_TRAINING_THREADS="1")
    assert done.returncode == 0, done.stderr
    before, nice, threads, again, omp = (int(v) for v in done.stdout.split())
    assert nice == again == max(before, 7)
    assert threads == omp == 1


def test_it_defaults_to_every_core_but_one():
    code = "import django; django.setup(); from django.conf import settings as s;"
    code += "print(s.FINETUNEDB_TRAINING_THREADS, s.FINETUNEDB_TRAINING_NICE)"
    done = _python(code)
    assert done.returncode == 0, done.stderr
    threads, nice = (int(v) for v in done.stdout.split())
    assert threads == max(1, len(os.sched_getaffinity(0)) - 1)
    assert nice == 10


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("FINETUNEDB_TRAINING_NICE", "25", "from 0 to 19"),
        ("FINETUNEDB_TRAINING_THREADS", "0", "1 or more"),
    ],
)
def test_it_refuses_to_start_with_a_bad_bound(name, value, says):
    done = _python("import django; django.setup()", **{name: value})
    assert done.returncode != 0
    assert f"{name}={value}" in done.stderr and says in done.stderr


def test_it_leaves_the_caller_alone_when_a_task_runs_eagerly(monkeypatch):
    from training import tasks

    called = []
    monkeypatch.setattr(tasks, "training_process_limits_apply", lambda: called.append(1))

    class Request:
        is_eager = True

    class Task:
        request = Request()

    tasks._yield_the_cpu(Task())
    assert called == []
    Request.is_eager = False
    tasks._yield_the_cpu(Task())
    assert called == [1]
