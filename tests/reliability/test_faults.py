"""finetunedb.faults: the plan's grammar, when a point fires, and what each action does."""

from __future__ import annotations

import errno
import subprocess
import sys
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from finetunedb import faults


@pytest.fixture(autouse=True)
def _off():
    yield
    faults.configure(None)


def test_it_parses_names_thresholds_and_actions():
    plan = faults.parse(" a.b@3=kill ; c=disk_full;d=delay:0.25;e=raise;")
    assert plan == {
        "a.b": faults.Fault("kill", 3),
        "c": faults.Fault("disk_full", 1),
        "d": faults.Fault("delay", 1, 0.25),
        "e": faults.Fault("raise", 1),
    }


@pytest.mark.parametrize(
    "entry", ["a", "a=explode", "=kill", "a@x=kill", "a=delay:soon", "a@=raise"]
)
def test_it_refuses_a_malformed_entry(entry):
    with pytest.raises(ValueError, match="FINETUNEDB_FAULTS entry"):
        faults.parse(entry)


@given(st.text(alphabet="abc.=;@:0123456789 ", max_size=30))
def test_it_either_parses_or_raises_value_error(spec):
    try:
        plan = faults.parse(spec)
    except ValueError:
        return
    assert all(isinstance(f, faults.Fault) and f.at >= 1 for f in plan.values())


def test_it_does_nothing_when_off():
    faults.configure(None)
    assert faults.PLAN is None
    faults.fault_point("import.before_publish")
    faults.configure("")
    assert faults.PLAN is None


def test_it_fires_on_the_nth_hit_or_once_n_reaches_the_threshold():
    faults.configure("x@3=raise;rows@100=disk_full")
    faults.fault_point("x")
    faults.fault_point("x")
    with pytest.raises(faults.FaultInjected):
        faults.fault_point("x")
    faults.fault_point("rows", n=99)
    with pytest.raises(OSError) as caught:
        faults.fault_point("rows", n=100)
    assert caught.value.errno == errno.ENOSPC
    faults.fault_point("other", n=10_000)  # not in the plan


def test_it_delays():
    faults.configure("slow=delay:0.2")
    start = time.monotonic()
    faults.fault_point("slow")
    assert time.monotonic() - start >= 0.2


def test_it_kills_the_process_and_reads_the_plan_from_the_environment():
    code = "from finetunedb import faults; faults.fault_point('boom'); print('survived')"
    env = {"FINETUNEDB_FAULTS": "boom=kill", "PATH": ""}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, timeout=60)
    assert done.returncode == -9 and b"survived" not in done.stdout
