"""The run's time left: from measured step times, never climbing because the first step was
slow; evaluations still to come included."""

import math
from types import SimpleNamespace

from hypothesis import given
from hypothesis import strategies as st

from training.eta import (
    duration_range_text,
    duration_text,
    eta_seconds,
    evaluations_left,
    run_eta_seconds,
    step_seconds,
)

seconds = st.floats(min_value=0.01, max_value=1000, allow_nan=False)


@given(
    first=seconds,
    steady=seconds,
    total=st.integers(min_value=2, max_value=300),
    interval=st.integers(min_value=0, max_value=50),
    eval_s=seconds,
)
def test_it_never_grows_when_steps_after_a_slow_first_one_take_the_same_time(
    first, steady, total, interval, eval_s
):
    first = max(first, steady)  # the first step is the slow one
    samples, evals, etas = [], [], []
    for step in range(1, total + 1):
        samples.append(first if step == 1 else steady)
        eta = eta_seconds(
            step=step,
            total_steps=total,
            step_samples=samples,
            eval_samples=evals,
            eval_interval=interval,
            validation=True,
            # The guess before the first evaluation is no lower than what one costs.
            eval_guess_steps=eval_s / steady,
        )
        etas.append(eta)
        if (interval and step % interval == 0) or step == total:
            evals.append((step, eval_s))
    assert all(b <= a * (1 + 1e-9) + 1e-9 for a, b in zip(etas, etas[1:], strict=False))
    # At the last step only its evaluation is left.
    assert math.isclose(etas[-1], eval_s, rel_tol=1e-9)


def test_it_leaves_out_the_warm_up_step_and_damps_a_spike():
    assert step_seconds([30.0, 2.0, 2.0]) == 2.0
    assert step_seconds([30.0]) == 30.0  # all there is
    assert step_seconds([]) is None and step_seconds([None, 0.0]) is None
    spiked = step_seconds([30.0, 2.0, 2.0, 200.0])
    assert 2.0 < spiked <= 2.0 + 0.3 * (3 * 2.0 - 2.0) + 1e-9


def test_it_counts_the_evaluations_the_recipe_still_runs():
    assert evaluations_left(step=0, total_steps=10, eval_interval=4, last_eval=0) == 3
    assert evaluations_left(step=4, total_steps=10, eval_interval=4, last_eval=4) == 2
    assert evaluations_left(step=8, total_steps=8, eval_interval=4, last_eval=4) == 1
    assert evaluations_left(step=8, total_steps=8, eval_interval=4, last_eval=8) == 0
    assert evaluations_left(step=3, total_steps=10, eval_interval=0, last_eval=0) == 1


def test_it_adds_the_measured_evaluation_time():
    eta = eta_seconds(
        step=4,
        total_steps=10,
        step_samples=[9.0, 1.0, 1.0, 1.0],
        eval_samples=[(4, 5.0)],
        eval_interval=4,
        validation=True,
    )
    assert eta == 6 * 1.0 + 2 * 5.0  # steps 5..10, evaluations at 8 and 10


def test_it_reads_a_running_run_and_nothing_for_a_finished_one():
    run = SimpleNamespace(
        status="running",
        step=2,
        total_steps=6,
        plan={"validation_sequences": 0},
        config={"batch_size": 2, "eval_interval": 0},
        metrics=[{"step": 1, "step_s": 12.0}, {"step": 2, "step_s": 3.0}],
        evals=[],
    )
    assert run_eta_seconds(run) == 12.0
    run.status = "succeeded"
    assert run_eta_seconds(run) is None


def test_it_says_durations_and_ranges_as_people_do():
    assert duration_text(42) == "about 40 s"
    assert duration_text(3) == "about 3 s"
    assert duration_text(400) == "about 7 min"
    assert duration_text(4800) == "about 1 h 20 min"
    assert duration_range_text(300, 420) == "about 5–7 min"
    assert duration_range_text(420, 300) == "about 5–7 min"
    assert duration_range_text(40, 200) == "about 40 s – 3 min"
