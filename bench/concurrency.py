"""Import and edit latency while a model trains, against the same machine idle (issue 16).

The embedded topology of ``make run`` (scripts/serve.sh): a SQLite database and Celery's
filesystem broker under a temporary DATA_DIR, one ``celery worker -Q default`` (imports, checks,
dedup) and one ``celery worker -Q training`` (training, evaluation), real processes. This
process plays the web process: it calls the same services a request calls.

Figures, each the median of ``--repeat`` tries:

* **import**: ``import_job_create`` of a ``--import-rows`` (2,000) row OpenAI chat JSONL built by
  ``bench/_data.py`` from ../shared/data, until the job has succeeded (the worker claimed,
  parsed, staged and published it). Each try imports into a fresh dataset of its own team.
* **edit**: ``example_update`` of one example of a ``--rows`` (10,000) example dataset, until
  the edit's own checks are stored (in the edit) and the dataset's report is current again
  (the default worker re-ran the dataset-level checks after it).

Baseline: both measured with the workers idle. Value: both measured while a CPU training run
of ``--model`` (the bundled SmolLM2-135M, or ``tiny``: the tests' 2-layer Llama) is in
progress on the training worker, which runs at FINETUNEDB_TRAINING_NICE with
FINETUNEDB_TRAINING_THREADS torch threads (the defaults unless set). ``--unbounded`` adds the
same measurement with the training worker at full priority and every core's threads (what the
worker did before issue 16), as a control. The run is checked to be still training after each
phase (else the figures are void) and cancelled at the end.

    HF_HUB_OFFLINE=1 .venv/bin/python bench/concurrency.py [--model tiny] [--unbounded]
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _data  # noqa: E402

ROOT = _data.ROOT
CELERY = Path(sys.executable).parent / "celery"
TARGET = 1.5
WAIT_S = 900


def wait_for(what: str, check, timeout: float = WAIT_S, every: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(every)
    raise SystemExit(f"timed out waiting for {what}")


class Worker:
    """One ``celery worker`` of the embedded topology, as scripts/serve.sh starts it."""

    def __init__(self, queue: str, data_dir: Path, **env: str):
        self.log = data_dir / "logs" / f"{queue}-{int(time.time() * 1000)}.log"
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen(
                [CELERY, "-A", "finetunedb", "worker", "-Q", queue, "--concurrency", "1"]
                + ["--loglevel", "INFO", "-n", f"{queue}-{os.getpid()}@%h"]
                + ["--without-mingle", "--without-gossip"],
                cwd=ROOT,
                env={**os.environ, **env},
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        wait_for(f"the {queue} worker", lambda: b"ready." in self.log.read_bytes(), timeout=120)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


def report_current(dataset_id: int, since) -> bool:
    from datasets_app.models import DatasetReport

    report = DatasetReport.objects.filter(dataset_id=dataset_id).first()
    return bool(
        report
        and not report.stale
        and report.computed_at is not None
        and report.computed_at >= since
    )


def import_once(user, jsonl: Path, name: str) -> float:
    from django.core.files import File

    from datasets_app.models import ImportJob
    from datasets_app.services.imports import import_job_create

    _, dataset = _data.make_dataset(name)
    start = time.perf_counter()
    with open(jsonl, "rb") as handle:
        upload = File(handle, name=jsonl.name)
        upload.size = jsonl.stat().st_size
        job = import_job_create(user=user, dataset=dataset, upload=upload)
    status = wait_for(
        "the import",
        lambda: (
            ImportJob.objects.filter(pk=job.pk, status__in=["succeeded", "failed"])
            .values_list("status", flat=True)
            .first()
        ),
    )
    elapsed = time.perf_counter() - start
    if status != "succeeded":
        raise SystemExit(f"import failed: {ImportJob.objects.get(pk=job.pk).failure_reason}")
    # Not timed: the check run its publish queued, so the next try starts on an idle worker.
    wait_for("the imported dataset's checks", lambda: report_current(dataset.pk, job.created_at))
    return elapsed


def edit_once(user, dataset, n: int) -> float:
    from django.utils import timezone

    from datasets_app.models import Example
    from datasets_app.services.examples import example_update

    example = (
        Example.objects.select_related("dataset", "current_revision")
        .filter(dataset=dataset)
        .order_by("pk")[n * 97 % min(1000, Example.objects.filter(dataset=dataset).count())]
    )
    messages = [dict(m) for m in example.current_revision.messages]
    messages[-1]["content"] = f"{messages[-1]['content']} (edited {n})"
    since = timezone.now()
    start = time.perf_counter()
    example_update(
        user=user,
        example=example,
        expected_revision=example.revision,
        changes={"messages": messages},
    )
    wait_for("the dataset report after an edit", lambda: report_current(dataset.pk, since))
    return time.perf_counter() - start


def measure(label: str, user, jsonl: Path, dataset, repeat: int, counter: list[int]) -> dict:
    imports, edits = [], []
    for _ in range(repeat):
        counter[0] += 1
        imports.append(import_once(user, jsonl, f"import-{counter[0]}"))
        edits.append(edit_once(user, dataset, counter[0]))
    result = {"import": statistics.median(imports), "edit": statistics.median(edits)}
    print(
        f"{label}: import {result['import']:.2f}s ({', '.join(f'{t:.2f}' for t in imports)}), "
        f"edit {result['edit']:.2f}s ({', '.join(f'{t:.2f}' for t in edits)})",
        flush=True,
    )
    return result


def start_training(user, dataset, model: str, tiny_dir: Path | None):
    from datasets_app.services.versions import dataset_version_freeze
    from training.models import TrainingRun
    from training.services.runs import training_run_create

    version = dataset_version_freeze(user=user, dataset=dataset, force=True, reason="benchmark")
    run = training_run_create(
        user=user,
        version=version,
        base_model=str(tiny_dir) if model == "tiny" else None,
        hyperparameters={
            "max_steps": 100_000 if model == "tiny" else 5000,
            "batch_size": 4,
            "max_seq_len": 256,
            "eval_interval": 0,
            "checkpoint_interval": 0,
        },
    )
    wait_for(
        "the training run's first step",
        lambda: (
            TrainingRun.objects.filter(pk=run.pk, step__gte=1).exists()
            or TrainingRun.objects.filter(pk=run.pk, status="failed").exists()
        ),
        every=0.5,
    )
    run.refresh_from_db()
    if run.status != "running":
        raise SystemExit(f"training did not start: {run.status} {run.failure_reason}")
    return run


def require_training(run, label: str) -> None:
    run.refresh_from_db()
    if run.status != "running":
        raise SystemExit(f"{label}: the training run ended ({run.status}) before the figures did")
    print(f"{label}: training still running at step {run.step}", flush=True)


def stop_training(user, run) -> None:
    from training.models import TrainingRun
    from training.services.runs import training_run_cancel

    training_run_cancel(user=user, run=TrainingRun.objects.get(pk=run.pk))
    wait_for("the cancel", lambda: not TrainingRun.objects.filter(pk=run.pk, status="running"))


def bench_line(name: str, value: float, base: float) -> str:
    ratio = value / base
    return (
        f"BENCH {name} value={value:.2f}s baseline={base:.2f}s ratio={ratio:.2f} "
        f"target=<={TARGET:g} pass={'yes' if ratio <= TARGET else 'no'}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000, help="examples in the edited dataset")
    parser.add_argument("--import-rows", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--model", choices=["bundled", "tiny"], default="bundled")
    parser.add_argument("--unbounded", action="store_true", help="also train without the bounds")
    parser.add_argument(
        "--models-dir",
        type=Path,
        default=ROOT / "var" / "models",
        help="where the bundled model is converted once (make run's folder by default)",
    )
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="bench-concurrency-"))
    data_dir = tmp / "data"
    os.environ["FINETUNEDB_MODELS_DIR"] = str(args.models_dir.resolve())
    os.environ.setdefault("FINETUNEDB_LOG_FORMAT", "json")
    tiny_dir = None
    if args.model == "tiny":
        from tests.reliability.tiny_model import build

        tiny_dir = build(tmp / "tiny-model")
        os.environ["FINETUNEDB_BASE_MODELS"] = str(tiny_dir)  # offered to the workers too
    _data.django_start(data_dir)
    from django.conf import settings
    from django.core.management import call_command

    if tiny_dir is None:
        call_command("ensure_base_model")  # converted once into --models-dir (about 25 s)

    import_file, edit_file = tmp / "import.jsonl", tmp / "edited.jsonl"
    _data.build_chat_jsonl(import_file, rows=args.import_rows)
    _data.build_chat_jsonl(edit_file, rows=args.rows)
    print(
        f"machine: {os.cpu_count()} cores; dataset {args.rows:,} examples, imports of "
        f"{args.import_rows:,} rows; model {args.model}; training threads "
        f"{settings.FINETUNEDB_TRAINING_THREADS}, niceness +{settings.FINETUNEDB_TRAINING_NICE}",
        flush=True,
    )

    default = Worker("default", data_dir)
    training = Worker("training", data_dir)
    counter = [0]
    try:
        user, edited = _data.make_dataset("edited")
        import_once_into(user, edit_file, edited)
        _, train_set = _data.make_dataset("train-set")
        import_once_into(user, import_file, train_set)

        idle = measure("idle", user, import_file, edited, args.repeat, counter)
        run = start_training(user, train_set, args.model, tiny_dir)
        busy = measure("training", user, import_file, edited, args.repeat, counter)
        require_training(run, "training")
        stop_training(user, run)

        unbounded = None
        if args.unbounded:
            training.stop()
            training = Worker(
                "training",
                data_dir,
                FINETUNEDB_TRAINING_NICE="0",
                FINETUNEDB_TRAINING_THREADS=str(os.cpu_count() or 1),
            )
            run = start_training(user, train_set, args.model, tiny_dir)
            unbounded = measure(
                "training unbounded", user, import_file, edited, args.repeat, counter
            )
            require_training(run, "training unbounded")
            stop_training(user, run)
    finally:
        training.stop()
        default.stop()

    print(bench_line("concurrency_import", busy["import"], idle["import"]))
    print(bench_line("concurrency_edit", busy["edit"], idle["edit"]))
    if unbounded is not None:
        # The control: the same with the training worker unbounded (not a target of its own).
        for name in ("import", "edit"):
            ratio = unbounded[name] / idle[name]
            print(
                f"control {name} with training unbounded: {unbounded[name]:.2f}s, "
                f"ratio {ratio:.2f} against idle"
            )


def import_once_into(user, jsonl: Path, dataset) -> None:
    """Fill ``dataset`` from ``jsonl`` through the worker and wait for its checks (not timed)."""
    from django.core.files import File

    from datasets_app.models import ImportJob
    from datasets_app.services.imports import import_job_create

    with open(jsonl, "rb") as handle:
        upload = File(handle, name=jsonl.name)
        upload.size = jsonl.stat().st_size
        job = import_job_create(user=user, dataset=dataset, upload=upload)
    wait_for(
        "the set-up import",
        lambda: ImportJob.objects.filter(pk=job.pk, status="succeeded").exists(),
    )
    wait_for("the set-up checks", lambda: report_current(dataset.pk, job.created_at))


if __name__ == "__main__":
    main()
