"""Time left in a run, from its measured step and evaluation times. Pure: numbers in, seconds out.

The step time is an exponentially weighted mean (``ALPHA``) of the recorded ``step_s`` samples.
The first sample is left out once there are others: the first optimizer step pays for warm-up
(allocator, kernels, caches) and is often several times slower, and an estimate seeded with it
would fall and then, read against wall time, seem to grow. Each later sample is clipped to
``SPIKE`` × the running mean, so one slow step (a checkpoint, a busy machine) moves the estimate
a little, not by its whole size. Evaluations still to come (every ``eval_interval`` steps and at
the end) are added at the mean of the measured ones, or before the first at ``eval_guess_steps``
step-times each (the caller's forward-only share of a step).
"""

from __future__ import annotations

import math

ALPHA = 0.3
SPIKE = 3.0
EVAL_SAMPLES = 3


def step_seconds(samples: list[float]) -> float | None:
    """The smoothed duration of one optimizer step; None without a usable sample.

    >>> step_seconds([9.0, 2.0, 2.0, 2.0])  # the slow first step is left out
    2.0
    """
    usable = [s for s in samples if isinstance(s, int | float) and math.isfinite(s) and s > 0]
    if len(usable) > 1:
        usable = usable[1:]
    if not usable:
        return None
    mean = usable[0]
    for sample in usable[1:]:
        mean += ALPHA * (min(sample, SPIKE * mean) - mean)
    return mean


def evaluations_left(*, step: int, total_steps: int, eval_interval: int, last_eval: int) -> int:
    """Evaluations the recipe still runs: at each multiple of ``eval_interval`` and at the last
    step, counting the current step when its evaluation is not recorded yet.

    >>> evaluations_left(step=4, total_steps=10, eval_interval=4, last_eval=0)  # 4, 8 and 10
    3
    """
    first = max(step, last_eval + 1, 1)
    if first > total_steps:
        return 0
    if not eval_interval:
        return 1
    multiples = total_steps // eval_interval - (first - 1) // eval_interval
    return multiples + (1 if total_steps % eval_interval else 0)


def eta_seconds(
    *,
    step: int,
    total_steps: int,
    step_samples: list[float],
    eval_samples: list[tuple[int, float]] = (),
    eval_interval: int = 0,
    validation: bool = False,
    eval_guess_steps: float = 0.0,
) -> float | None:
    """Seconds until the run's last step and evaluation are done; None before any measurement.

    ``eval_samples`` are ``(step, seconds)`` of the evaluations so far; ``validation`` says
    whether the run evaluates at all.

    >>> eta_seconds(step=2, total_steps=10, step_samples=[5.0, 1.0])
    8.0
    """
    per_step = step_seconds(step_samples)
    if per_step is None:
        return None
    remaining = max(total_steps - step, 0) * per_step
    if validation:
        measured = [s for _, s in eval_samples if isinstance(s, int | float) and s >= 0]
        recent = measured[-EVAL_SAMPLES:]
        per_eval = sum(recent) / len(recent) if recent else eval_guess_steps * per_step
        last_eval = max((st for st, _ in eval_samples), default=0)
        count = evaluations_left(
            step=step, total_steps=total_steps, eval_interval=eval_interval, last_eval=last_eval
        )
        remaining += count * per_eval
    return remaining


def run_eta_seconds(run) -> float | None:
    """:func:`eta_seconds` of a training run's stored metrics; None once it has finished."""
    if run.status not in ("queued", "running") or not run.total_steps:
        return None
    plan, config = run.plan or {}, run.config or {}
    per_step_rows = max(config.get("batch_size", 1), 1) * max(
        config.get("gradient_accumulation_steps", 1), 1
    )
    validation_rows = plan.get("validation_sequences", 0)
    # An evaluation is a forward pass only, about a third of a training step's work per row.
    guess = validation_rows / per_step_rows / 3
    return eta_seconds(
        step=run.step,
        total_steps=run.total_steps,
        step_samples=[p.get("step_s") for p in run.metrics or []],
        eval_samples=[(p["step"], p["eval_s"]) for p in run.evals or [] if "eval_s" in p],
        eval_interval=config.get("eval_interval", 0),
        validation=bool(validation_rows),
        eval_guess_steps=guess,
    )


def duration_text(seconds: float) -> str:
    """A duration as people say it: "about 40 s", "about 6 min", "about 1 h 20 min".

    >>> duration_text(42), duration_text(390), duration_text(4800)
    ('about 40 s', 'about 6 min', 'about 1 h 20 min')
    """
    return f"about {_amount(seconds)}"


def duration_range_text(low: float, high: float) -> str:
    """A range in one unit where it can be: "about 5–7 min"; one figure when both round alike.

    >>> duration_range_text(290, 410), duration_range_text(50, 55), duration_range_text(40, 200)
    ('about 5–7 min', 'about 50–55 s', 'about 40 s – 3 min')
    """
    low, high = min(low, high), max(low, high)
    a, b = _amount(low), _amount(high)
    if a == b:
        return f"about {a}"
    unit_a, unit_b = a.rsplit(" ", 1)[-1], b.rsplit(" ", 1)[-1]
    if unit_a == unit_b and " h " not in a and " h " not in b:
        return f"about {a.rsplit(' ', 1)[0]}–{b}"
    return f"about {a} – {b}"


def _amount(seconds: float) -> str:
    seconds = max(float(seconds), 0.0)
    if seconds < 90:
        return f"{max(round(seconds / 5) * 5, 5) if seconds >= 10 else math.ceil(seconds) or 1} s"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, rest = divmod(minutes, 60)
    return f"{hours} h {rest} min" if rest else f"{hours} h"
