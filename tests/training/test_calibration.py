"""Pre-flight estimates calibrated on the runs this server finished: each run stores the estimate
its worker checked and what it measured (time since training started, peak memory), and the next
pre-flight of the same model on the same device shows a range corrected by their ratios."""

from datetime import UTC, datetime, timedelta

import pytest

from training.calibration import MB, UNCALIBRATED_TIME, calibrate, run_measurement
from training.models import RunStatus, TrainingRun
from training.services import execute
from training.services.preflight import training_preflight

ESTIMATE = {
    "seconds": 80.0,  # from earlier runs' throughput, say: not what ratios are taken against
    "model_seconds": 100.0,
    "memory_bytes": 1000 * MB,
    "device_name": "CPU",
}


def measured(training_s: float, peak_mb: float, wall_s: float | None = None) -> dict:
    start = datetime(2026, 12, 6, 20, 0, tzinfo=UTC)
    return run_measurement(
        metrics=[
            {"step": 1, "elapsed_s": training_s / 2, "memory_mb": peak_mb * 0.9},
            {"step": 2, "elapsed_s": training_s - 5, "memory_mb": peak_mb},
        ],
        evals=[{"step": 2, "elapsed_s": training_s}],
        estimate=ESTIMATE,
        started_at=start,
        finished_at=start + timedelta(seconds=wall_s) if wall_s else None,
    )


def test_it_reads_what_a_run_measured_against_its_estimate():
    m = measured(150.0, 1300.0, wall_s=200.0)
    assert m["training_ratio"] == 1.5 and m["memory_ratio"] == 1.3
    assert m["overhead_seconds"] == 50.0
    assert run_measurement(metrics=[{"step": 1}], evals=[], estimate=ESTIMATE) is None
    assert run_measurement(metrics=[{"step": 1, "elapsed_s": 2}], evals=[], estimate=None) is None


def test_it_brackets_a_new_estimate_by_the_ratios_of_earlier_runs():
    runs = [measured(140.0, 1250.0, wall_s=200.0), measured(160.0, 1350.0, wall_s=220.0)]
    out = calibrate(seconds=200.0, memory_bytes=2000 * MB, measurements=runs)
    assert out["calibrated"] and out["runs"] == 2
    # Ratios 1.4 and 1.6, widened by 5 %; plus the median 60 s spent loading and saving.
    assert out["training_seconds_low"] == pytest.approx(200 * 1.4 * 0.95)
    assert out["training_seconds_high"] == pytest.approx(200 * 1.6 * 1.05)
    assert out["overhead_seconds"] == 60.0
    assert out["seconds_low"] == pytest.approx(200 * 1.4 * 0.95 + 60)
    assert out["memory_bytes_low"] == int(2000 * MB * 1.25 * 0.95)
    assert out["seconds_text"] == "about 5–7 min"
    assert out["memory_text"] == "about 2.5–3.0 GB"


def test_it_says_the_estimators_usual_error_before_any_run():
    out = calibrate(seconds=279.0, memory_bytes=3_100_000_000, measurements=[])
    assert not out["calibrated"]
    assert out["seconds_low"] == pytest.approx(279 * UNCALIBRATED_TIME[0])
    assert out["seconds_high"] == pytest.approx(279 * UNCALIBRATED_TIME[1])


def test_it_spreads_one_runs_ratio_both_ways():
    out = calibrate(seconds=100.0, memory_bytes=1000 * MB, measurements=[measured(120.0, 1100.0)])
    assert out["training_seconds_low"] == pytest.approx(102.0)
    assert out["training_seconds_high"] == pytest.approx(138.0)
    assert out["overhead_seconds"] == 0.0


@pytest.mark.django_db
def test_a_finished_run_calibrates_the_next_preflight(queued_run, version, tiny_model_dir):
    before = training_preflight(version=version, base_model=str(tiny_model_dir))
    assert not before["estimate"]["calibration"]["calibrated"]

    run = queued_run(epochs=1)
    execute.training_run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED
    stored = run.plan["estimate"]
    assert stored["seconds"] > 0 and stored["memory_bytes"] > 0
    assert all(p["step_s"] > 0 and p["elapsed_s"] >= 0 for p in run.metrics)
    assert run.evals and all(p["eval_s"] >= 0 for p in run.evals)
    assert run.plan["validation_sequences"] == 2

    after = training_preflight(version=version, base_model=str(tiny_model_dir), method="lora")
    calibration = after["estimate"]["calibration"]
    assert calibration["calibrated"] and calibration["run_ids"] == [run.pk]
    ratio = max(p["elapsed_s"] for p in run.metrics + run.evals) / stored["model_seconds"]
    assert calibration["time_ratios"] == [round(ratio, 3)]
    assert calibration["seconds_text"].startswith("about ")


@pytest.mark.django_db
def test_it_calibrates_only_on_first_attempts_of_the_same_model_and_device(
    queued_run, version, tiny_model_dir
):
    def finished(attempts=1, **estimate):
        run = queued_run(epochs=1)
        TrainingRun.objects.filter(pk=run.pk).update(
            status=RunStatus.SUCCEEDED,
            attempts=attempts,
            device="cpu",
            plan={"estimate": {**ESTIMATE, **estimate}},
            metrics=[{"step": 1, "elapsed_s": 30.0, "memory_mb": 1500.0}],
            finished_at=datetime.now(UTC),
        )
        return run

    other_device = finished(device_name="NVIDIA H100 80GB HBM3")
    resumed = finished(attempts=2)
    same = finished()
    report = training_preflight(version=version, base_model=str(tiny_model_dir))
    calibration = report["estimate"]["calibration"]
    assert calibration["run_ids"] == [same.pk]
    assert other_device.pk not in calibration["run_ids"]
    assert resumed.pk not in calibration["run_ids"]
    assert calibration["time_ratios"] == [0.3]
