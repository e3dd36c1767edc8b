"""Pre-flight estimates against what finished runs measured, as ranges people can read. Pure.

A run stores the estimate its worker checked before training (``plan["estimate"]``; its
``model_seconds`` is the yardstick, the work at the assumed throughput) and records
per step its time since training started (``elapsed_s``) and the peak memory so far
(``memory_mb``). :func:`run_measurement` reads one run back; :func:`calibrate` turns the
measured/estimated ratios of recent comparable runs into a range for a new estimate:

* time: ``estimate × [lowest, highest ratio]`` (one run: ± ``ONE_RUN_SPREAD`` around its ratio;
  several: the ratios' span widened by ``SPREAD``), plus the median of what those runs spent
  outside training (loading the model and data before, saving after);
* memory: the same with the peak-memory ratios.

Without comparable runs the range is a wide band (``UNCALIBRATED_*``) from the errors measured
on this project's machines (docs/benchmarks.md, "Pre-flight against measured runs"), and the page
says it is uncalibrated.
"""

from __future__ import annotations

import statistics
from datetime import datetime

from .eta import duration_range_text

ONE_RUN_SPREAD = 0.15
SPREAD = 0.05
# measured ÷ estimated, seen on the 2-core CPU here (docs/benchmarks.md): memory 0.77–1.85;
# time from ~0.3 on a quiet machine to far above 3 when it is shared — the band says "rough".
UNCALIBRATED_TIME = (0.5, 3.0)
UNCALIBRATED_MEMORY = (0.75, 1.9)
MB = 1 << 20


def run_measurement(
    *,
    metrics: list[dict],
    evals: list[dict],
    estimate: dict | None,
    started_at: datetime | None = None,
    finished_at: datetime | None = None,
) -> dict | None:
    """What a finished run measured next to what was estimated for it; None when it recorded
    no timing (a run from before ``elapsed_s`` existed) or no estimate.

    >>> run_measurement(
    ...     metrics=[{"step": 1, "elapsed_s": 3.0, "memory_mb": 900}],
    ...     evals=[{"step": 1, "elapsed_s": 4.0}],
    ...     estimate={"seconds": 2.0, "memory_bytes": 800 * MB},
    ... )["training_ratio"]
    2.0
    """
    seconds = (estimate or {}).get("model_seconds") or (estimate or {}).get("seconds")
    if not seconds or not estimate.get("memory_bytes"):
        return None
    times = [
        p["elapsed_s"] for p in [*metrics, *evals] if isinstance(p.get("elapsed_s"), int | float)
    ]
    if not times:
        return None
    training = max(times)
    peaks = [p["memory_mb"] for p in metrics if isinstance(p.get("memory_mb"), int | float)]
    peak = max(peaks) * MB if peaks else None
    wall = (finished_at - started_at).total_seconds() if started_at and finished_at else None
    return {
        "estimated_seconds": seconds,
        "training_seconds": training,
        "training_ratio": training / seconds,
        "overhead_seconds": max(wall - training, 0.0) if wall is not None else None,
        "estimated_bytes": estimate["memory_bytes"],
        "peak_bytes": peak,
        "memory_ratio": peak / estimate["memory_bytes"] if peak else None,
    }


def _band(ratios: list[float], default: tuple[float, float]) -> tuple[float, float]:
    if not ratios:
        return default
    if len(ratios) == 1:
        return ratios[0] * (1 - ONE_RUN_SPREAD), ratios[0] * (1 + ONE_RUN_SPREAD)
    return min(ratios) * (1 - SPREAD), max(ratios) * (1 + SPREAD)


def calibrate(*, seconds: float, memory_bytes: int, measurements: list[dict]) -> dict:
    """Ranges for an estimate of ``seconds`` and ``memory_bytes`` from earlier runs' measurements
    (:func:`run_measurement`), with the text the pre-flight shows.

    >>> out = calibrate(seconds=279, memory_bytes=3_100_000_000, measurements=[])
    >>> out["calibrated"], out["seconds_text"]
    (False, 'about 2–14 min')
    """
    time_ratios = [m["training_ratio"] for m in measurements if m.get("training_ratio")]
    memory_ratios = [m["memory_ratio"] for m in measurements if m.get("memory_ratio")]
    overheads = [
        m["overhead_seconds"] for m in measurements if m.get("overhead_seconds") is not None
    ]
    t_low, t_high = _band(time_ratios, UNCALIBRATED_TIME)
    m_low, m_high = _band(memory_ratios, UNCALIBRATED_MEMORY)
    overhead = statistics.median(overheads) if overheads else 0.0
    low, high = seconds * t_low + overhead, seconds * t_high + overhead
    return {
        "calibrated": bool(time_ratios),
        "runs": len(measurements),
        "time_ratios": [round(r, 3) for r in time_ratios],
        "memory_ratios": [round(r, 3) for r in memory_ratios],
        "training_seconds_low": seconds * t_low,
        "training_seconds_high": seconds * t_high,
        "overhead_seconds": overhead,
        "seconds_low": low,
        "seconds_high": high,
        "seconds_text": duration_range_text(low, high),
        "memory_bytes_low": int(memory_bytes * m_low),
        "memory_bytes_high": int(memory_bytes * m_high),
        "memory_text": memory_range_text(memory_bytes * m_low, memory_bytes * m_high),
    }


def memory_range_text(low: float, high: float) -> str:
    """ "about 3.8–4.3 GB" (decimal units, as the sizes elsewhere on the pages).

    >>> memory_range_text(3.8e9, 4.26e9), memory_range_text(420e6, 610e6)
    ('about 3.8–4.3 GB', 'about 420–610 MB')
    """
    low, high = min(low, high), max(low, high)
    if high >= 1e9:
        return f"about {low / 1e9:.1f}–{high / 1e9:.1f} GB"
    return f"about {low / 1e6:.0f}–{high / 1e6:.0f} MB"
