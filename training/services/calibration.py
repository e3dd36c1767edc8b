"""The pre-flight's ranges, calibrated on this server's finished runs (training/calibration.py).

Comparable runs: succeeded on the first attempt (a resumed run's clock restarts), same base model
and method, and an estimate made for the same device. Ratios are taken against the estimate's
``model_seconds`` (the work at the assumed throughput), never against ``seconds`` (which may come
from earlier runs' throughput), so every ratio corrects the same yardstick. The newest
``CALIBRATION_RUNS``.
"""

from __future__ import annotations

from ..calibration import calibrate, run_measurement
from ..models import RunStatus, TrainingRun

CALIBRATION_RUNS = 5
SCANNED = 20


def training_measurements(*, base_model: str, method: str, device_name: str):
    """``(run ids, measurements)`` of the recent comparable runs, newest first."""
    runs = (
        TrainingRun.objects.filter(
            status=RunStatus.SUCCEEDED,
            base_model=base_model,
            method=method,
            # first attempts only (a resumed run's times mix two processes); a read, not a claim:
            # claims and lease writes live in finetunedb/leases.py (tests/test_one_lease.py).
            attempts__lte=1,
        )
        .order_by("-finished_at", "-id")
        .values_list("pk", "plan", "metrics", "evals", "started_at", "finished_at")[:SCANNED]
    )
    ids, found = [], []
    for pk, plan, metrics, evals, started_at, finished_at in runs:
        estimate = (plan or {}).get("estimate") or {}
        if estimate.get("device_name") != device_name:
            continue
        measured = run_measurement(
            metrics=metrics or [],
            evals=evals or [],
            estimate=estimate,
            started_at=started_at,
            finished_at=finished_at,
        )
        if measured is not None:
            ids.append(pk)
            found.append(measured)
        if len(found) == CALIBRATION_RUNS:
            break
    return ids, found


def training_estimate_calibrate(estimate: dict, *, base_model: str, method: str) -> dict:
    """The ``calibration`` part of a pre-flight estimate: ranges, their text, the runs used."""
    ids, measurements = training_measurements(
        base_model=base_model,
        method=method,
        device_name=estimate["device_name"],
    )
    out = calibrate(
        seconds=estimate["model_seconds"],
        memory_bytes=estimate["memory_bytes"],
        measurements=measurements,
    )
    return {**out, "run_ids": ids}
