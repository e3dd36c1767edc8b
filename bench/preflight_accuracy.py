"""How far the pre-flight's time and memory estimates are from what runs measure, before and after
calibration on this server's own finished runs (issue 16.9).

A fresh database (the embedded default's settings) holds one version of GSM8K chats
(../shared/data/gsm8k when present, else generated arithmetic chats), split train/validation.
``--runs`` runs of the bundled SmolLM2-135M-Instruct (LoRA, CPU here) with different step counts
go through the app's own path: ``training_preflight`` (what the page shows), ``training_run_create``
and ``training_run_execute`` in this process (the worker's code). For each run it prints the raw
estimate against what the run measured — training time (``elapsed_s``), wall time from claim to
success (loading and saving included, what a user waits) and peak memory — and whether the
calibrated range the pre-flight showed before it held the measurement. The first run has no
calibration (the estimator's own error band); each later one is calibrated by those before it.

    .venv/bin/python bench/preflight_accuracy.py --runs 3

Baseline: the raw estimate (what the pre-flight said before calibration), measured in the same
run. Keep it short: the machine is shared.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
GSM8K = ROOT.parent / "shared" / "data" / "gsm8k" / "train.jsonl"
BASE_CACHE = ROOT / "var" / "models" / "base"  # the converted bundled model, kept between runs


def chats(n: int) -> list[list[dict]]:
    if GSM8K.is_file():
        with open(GSM8K, encoding="utf-8") as fh:
            rows = [json.loads(line) for _, line in zip(range(n), fh, strict=False)]
        pairs = [(r["question"], r["answer"]) for r in rows]
    else:
        pairs = [(f"What is {i} times {i + 7}?", f"{i} × {i + 7} = {i * (i + 7)}. " * 8) for i in range(n)]  # fmt: skip
    return [[{"role": "user", "content": q}, {"role": "assistant", "content": a}] for q, a in pairs]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--steps", default="3,6,4", help="max_steps of each run, comma-separated")
    parser.add_argument("--examples", type=int, default=40)
    parser.add_argument("--validation", type=int, default=6)
    parser.add_argument("--batch-size", type=int, default=2)
    parser.add_argument("--max-seq-len", type=int, default=256)
    args = parser.parse_args()
    steps = [int(s) for s in args.steps.split(",")]
    steps = (steps * args.runs)[: args.runs]

    work = Path(tempfile.mkdtemp(prefix="bench-preflight-"))
    models = work / "models"
    models.mkdir()
    BASE_CACHE.mkdir(parents=True, exist_ok=True)
    (models / "base").symlink_to(BASE_CACHE)
    os.environ["FINETUNEDB_MODELS_DIR"] = str(models)
    from bench._data import django_start, make_dataset

    django_start(work)
    from datasets_app.services.examples import example_create
    from datasets_app.services.versions import dataset_version_freeze
    from training.calibration import MB
    from training.models import TrainingRun
    from training.services import execute, runs
    from training.services.preflight import training_preflight

    runs.training_run_enqueue = lambda run_id: None  # this process is the worker
    execute.model_evaluate_enqueue = lambda model_id: None
    user, dataset = make_dataset("preflight-bench")
    for i, messages in enumerate(chats(args.examples + args.validation)):
        split = "validation" if i >= args.examples else "train"
        example_create(user=user, dataset=dataset, messages=messages, split=split)
    version = dataset_version_freeze(user=user, dataset=dataset, name="bench")

    rows = []
    for n, max_steps in enumerate(steps, 1):
        hyper = {
            "max_steps": max_steps,
            "batch_size": args.batch_size,
            "max_seq_len": args.max_seq_len,
            "eval_interval": 0,
            "checkpoint_interval": 0,
        }
        shown = training_preflight(version=version, hyperparameters=hyper)["estimate"]
        run = runs.training_run_create(user=user, version=version, hyperparameters=hyper)
        execute.training_run_execute(run_id=run.pk)
        run = TrainingRun.objects.get(pk=run.pk)
        if run.status != "succeeded":
            print(f"run {n} {run.status}: {run.failure_reason}")
            return 1
        c = shown["calibration"]
        training_s = max(p["elapsed_s"] for p in run.metrics + run.evals)
        wall_s = (run.finished_at - run.started_at).total_seconds()
        peak = max(p["memory_mb"] for p in run.metrics) * MB
        row = {
            "run": n,
            "steps": max_steps,
            "estimate_s": shown["seconds"],
            "source": shown["source"],
            "training_s": training_s,
            "wall_s": wall_s,
            "range_s": (c["seconds_low"], c["seconds_high"]),
            "calibrated": c["calibrated"],
            "estimate_mb": shown["memory_bytes"] / MB,
            "peak_mb": peak / MB,
            "range_mb": (c["memory_bytes_low"] / MB, c["memory_bytes_high"] / MB),
            "shown": f"{c['seconds_text']}, {c['memory_text']}",
        }
        rows.append(row)
        print(
            f"run {n}: {max_steps} steps; pre-flight said {shown['seconds']:.0f} s ({shown['source']}) "
            f"and {row['estimate_mb']:.0f} MB, showed {row['shown']}"
            f"{' (calibrated)' if c['calibrated'] else ' (uncalibrated band)'}; measured training "
            f"{training_s:.0f} s, wall {wall_s:.0f} s, peak {row['peak_mb']:.0f} MB"
        )

    def inside(value, band):
        return band[0] <= value <= band[1]

    later = [r for r in rows if r["calibrated"]] or rows
    raw_time = statistics.median(r["wall_s"] / r["estimate_s"] for r in later)
    mid_time = statistics.median(r["wall_s"] / (sum(r["range_s"]) / 2) for r in later)
    raw_mem = statistics.median(r["peak_mb"] / r["estimate_mb"] for r in later)
    mid_mem = statistics.median(r["peak_mb"] / (sum(r["range_mb"]) / 2) for r in later)
    held_t = sum(inside(r["wall_s"], r["range_s"]) for r in later)
    held_m = sum(inside(r["peak_mb"], r["range_mb"]) for r in later)
    print(
        f"BENCH preflight_time value={mid_time:.2f} baseline={raw_time:.2f} "
        f"ratio={abs(mid_time - 1) / max(abs(raw_time - 1), 1e-9):.2f} "
        f"in_range={held_t}/{len(later)} target=in_range pass={'yes' if held_t == len(later) else 'no'}"
        "  (measured wall ÷ calibrated midpoint; baseline: ÷ raw estimate)"
    )
    print(
        f"BENCH preflight_memory value={mid_mem:.2f} baseline={raw_mem:.2f} "
        f"ratio={abs(mid_mem - 1) / max(abs(raw_mem - 1), 1e-9):.2f} "
        f"in_range={held_m}/{len(later)} target=in_range pass={'yes' if held_m == len(later) else 'no'}"
        "  (measured peak ÷ calibrated midpoint; baseline: ÷ raw estimate)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
