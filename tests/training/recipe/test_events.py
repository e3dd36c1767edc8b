"""The worker ↔ child processes channel: events written whole, read back in order however the
reads fall, the cancel file, and a child that dies with its parent."""

import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from training.recipe.events import EventReader, EventWriter, write_event

ROOT = Path(__file__).resolve().parents[3]

payloads = st.lists(
    st.dictionaries(
        st.text(min_size=1, max_size=5),
        st.one_of(st.integers(), st.floats(allow_nan=False), st.text(max_size=20)),
        max_size=3,
    ),
    max_size=8,
)


@given(payloads, st.lists(st.integers(min_value=0, max_value=400), max_size=6))
def test_it_reads_every_event_once_in_order_however_the_writes_are_cut(
    tmp_path_factory, payloads, cuts
):
    path = tmp_path_factory.mktemp("events") / "events.jsonl"
    data = b"".join(
        json.dumps({"event": "log", **p}).encode() + b"\n" for p in payloads
    )  # what write_event produces, appended in pieces as a slow writer would
    reader, seen, start = EventReader(path), [], 0
    assert reader.read() == []  # no file yet
    for cut in sorted(cuts) + [len(data)]:
        with open(path, "ab") as fh:
            fh.write(data[start : max(start, cut)])
        start = max(start, cut)
        seen += reader.read()
    assert seen == [{"event": "log", **p} for p in payloads]


def test_it_writes_reporter_calls_as_events(tmp_path):
    writer = EventWriter(tmp_path / "e.jsonl")
    writer.on_start(4)
    writer.on_step(1, {"loss": 2.5, "grad_norm": math.inf})
    writer.on_eval(1, {"eval_loss": math.nan})
    writer.on_log("checkpoint step-1 written")
    writer.heartbeat()
    writer.heartbeat()  # within HEARTBEAT_EVERY_S: not written
    write_event(tmp_path / "e.jsonl", "error", kind="ConfigError", message="bad")
    assert EventReader(tmp_path / "e.jsonl").read() == [
        {"event": "start", "total_steps": 4},
        {"event": "step", "step": 1, "metrics": {"loss": 2.5, "grad_norm": None}},
        {"event": "eval", "step": 1, "metrics": {"eval_loss": None}},
        {"event": "log", "line": "checkpoint step-1 written"},
        {"event": "heartbeat"},
        {"event": "error", "kind": "ConfigError", "message": "bad"},
    ]


def test_it_cancels_once_the_cancel_file_exists(tmp_path):
    writer = EventWriter(tmp_path / "e.jsonl", tmp_path / "cancel")
    assert not writer.should_cancel()
    (tmp_path / "cancel").touch()
    assert writer.should_cancel()
    assert not EventWriter(tmp_path / "e.jsonl").should_cancel()


CHILD_OF_A_DOOMED_PARENT = """
import subprocess, sys, time
from training.recipe.events import die_with_parent
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"],
                         preexec_fn=die_with_parent, start_new_session=True)
print(child.pid, flush=True)
time.sleep(60)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_it_kills_the_child_when_its_parent_is_killed():
    parent = subprocess.Popen(
        [sys.executable, "-c", CHILD_OF_A_DOOMED_PARENT],
        cwd=ROOT,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
        stdout=subprocess.PIPE,
        text=True,
    )
    child = int(parent.stdout.readline())
    try:
        assert Path(f"/proc/{child}").exists()
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait()
        deadline = time.monotonic() + 5
        while _alive(child) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _alive(child)
    finally:
        if _alive(child):
            os.kill(child, signal.SIGKILL)


def _alive(pid: int) -> bool:
    # A killed child of a dead parent is reaped by init; a zombie counts as dead.
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] != "Z"
    except (FileNotFoundError, IndexError):
        return False
