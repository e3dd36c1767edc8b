"""Import end to end (job start → published) against the floor of the same machine, same run.

Input: ``--rows`` (default 100,000) distinct OpenAI chat lines, ≈107 MB, built from
../shared/data by ``bench/_data.py`` (every shared file read with ``iter_rows``, the ~16,000
examples cycled with a system prompt added and a " (variant N)" suffix on later copies; see
there).

Baseline (the floor): read the file line by line, ``orjson.loads`` each line, compute the same
row values our import stores (sha256 of the canonical JSON as content hash, ``orjson.dumps`` of
messages/tools/metadata as text) and insert them with ``sqlite3`` ``executemany`` in batches of
2,000 into the SAME two tables we use (``datasets_app_example`` and
``datasets_app_examplerevision``) of a scratch copy of the benchmark database — same columns,
indexes, deferred foreign keys and pragmas (WAL, synchronous=NORMAL, foreign_keys=ON, and the
page cache size our bulk insert sets) — in one transaction, ids reserved up front. No validation,
no format detection, no staging, no progress.

Value: ``import_job_run`` on a fresh SQLite database (``finetunedb.settings.dev`` pointed at a
temporary DATA_DIR) for a job created by ``import_job_create``: claim, detect, parse + map +
validate, hash, duplicate counting, staging file (fsynced), progress on the row, publish in one
transaction with the final status. The upload copy made by ``import_job_create`` is not timed.

``--memory``: also builds a ≈1 GB file (``--memory-bytes``) and imports it in a child process,
reporting the child's peak RSS (``ru_maxrss`` of the waited child) against the same child's peak
before the import started (Django set up, database migrated). ``--profile`` prints the top of a
cProfile of our import.
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import pstats
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _data  # noqa: E402

TARGET_RATIO = 4.0
TARGET_MB = 500
BATCH = 2000


def floor(db_path: Path, jsonl: Path, *, dataset_id: int, user_id: int) -> float:
    db = sqlite3.connect(db_path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("PRAGMA foreign_keys=ON")
    from datasets_app.services.example_rows import SQLITE_BULK_CACHE_KIB

    # The same page cache our bulk insert asks for: the floor gets every advantage we take.
    db.execute(f"PRAGMA cache_size=-{SQLITE_BULK_CACHE_KIB}")
    now = "2026-01-01 00:00:00"
    example_sql = (
        "INSERT INTO datasets_app_example (id, dataset_id, current_revision_id, content_hash, "
        "status, split, split_locked, rating, notes, source_format, revision, created_by_id, "
        "created_at, updated_at) VALUES (?, ?, ?, ?, 'draft', 'unassigned', 0, NULL, '', "
        "'openai', 1, ?, ?, ?)"
    )
    revision_sql = (
        "INSERT INTO datasets_app_examplerevision (id, example_id, number, messages, tools, "
        "metadata, content_hash, author_id, created_at) VALUES (?, ?, 1, ?, ?, ?, ?, ?, ?)"
    )
    start = time.perf_counter()
    db.execute("BEGIN IMMEDIATE")
    next_example = db.execute("SELECT COALESCE(MAX(id), 0) FROM datasets_app_example").fetchone()
    next_revision = db.execute(
        "SELECT COALESCE(MAX(id), 0) FROM datasets_app_examplerevision"
    ).fetchone()
    example_id, revision_id = next_example[0], next_revision[0]
    examples, revisions = [], []
    sha256, dumps, loads, sort = hashlib.sha256, orjson.dumps, orjson.loads, orjson.OPT_SORT_KEYS
    with open(jsonl, "rb") as handle:
        for line in handle:
            obj = loads(line)
            example_id += 1
            revision_id += 1
            chash = sha256(dumps(obj, option=sort)).hexdigest()
            tools = obj.get("tools")
            examples.append((example_id, dataset_id, revision_id, chash, user_id, now, now))
            revisions.append(
                (
                    revision_id,
                    example_id,
                    dumps(obj["messages"]).decode(),
                    dumps(tools).decode() if tools else None,
                    "{}",
                    chash,
                    user_id,
                    now,
                )
            )
            if len(examples) == BATCH:
                db.executemany(example_sql, examples)
                db.executemany(revision_sql, revisions)
                examples, revisions = [], []
    db.executemany(example_sql, examples)
    db.executemany(revision_sql, revisions)
    db.execute("COMMIT")
    elapsed = time.perf_counter() - start
    db.close()
    return elapsed


def ours(jsonl: Path, name: str, *, profile: bool = False) -> tuple[float, object]:
    from django.core.files import File

    from datasets_app.models import ImportJob
    from datasets_app.services import imports
    from datasets_app.services.imports import jobs

    user, dataset = _data.make_dataset(name)
    with open(jsonl, "rb") as handle:
        upload = File(handle, name=jsonl.name)
        upload.size = jsonl.stat().st_size
        # The bench runs the job itself, in this process; nothing goes to a broker.
        enqueue, jobs.import_job_enqueue = jobs.import_job_enqueue, lambda job_id: None
        try:
            job = imports.import_job_create(user=user, dataset=dataset, upload=upload)
        finally:
            jobs.import_job_enqueue = enqueue
    profiler = cProfile.Profile() if profile else None
    start = time.perf_counter()
    if profiler:
        profiler.enable()
    imports.import_job_run(job_id=job.pk)
    if profiler:
        profiler.disable()
    elapsed = time.perf_counter() - start
    job = ImportJob.objects.get(pk=job.pk)
    if job.status != "succeeded":
        raise SystemExit(f"import failed: {job.failure_reason} {job.first_errors[:3]}")
    if profiler:
        pstats.Stats(profiler).sort_stats("tottime").print_stats(20)
    return elapsed, job


def timing(args, tmp: Path) -> None:
    jsonl = tmp / "bench.jsonl"
    rows, size = _data.build_chat_jsonl(jsonl, rows=args.rows)
    print(f"input: {rows} lines, {size / 1e6:.1f} MB")
    _data.django_start(tmp / "data")
    from django.db import connection

    db_path = Path(connection.settings_dict["NAME"])
    baselines, values = [], []
    for rep in range(args.repeat):
        user, dataset = _data.make_dataset(f"floor-{rep}")
        connection.close()
        scratch = tmp / f"floor-{rep}.sqlite3"
        with sqlite3.connect(db_path) as source, sqlite3.connect(scratch) as target:
            source.backup(target)
        baselines.append(floor(scratch, jsonl, dataset_id=dataset.pk, user_id=user.pk))
        scratch.unlink()
        elapsed, job = ours(jsonl, f"ours-{rep}", profile=args.profile)
        values.append(elapsed)
        assert job.examples_created == rows, (job.examples_created, rows)
        print(f"run {rep + 1}: floor {baselines[-1]:.2f}s, import {elapsed:.2f}s")
    base, value = min(baselines), min(values)
    ratio = value / base
    print(f"floor (orjson + sqlite3 executemany): {base:.2f}s ({rows / base:,.0f} rows/s)")
    print(f"import_job_run end to end:            {value:.2f}s ({rows / value:,.0f} rows/s)")
    print(
        f"BENCH import value={value:.2f}s baseline={base:.2f}s ratio={ratio:.2f} "
        f"target=<={TARGET_RATIO:g} pass={'yes' if ratio <= TARGET_RATIO else 'no'}"
    )


def memory(args, tmp: Path) -> None:
    jsonl = tmp / "big.jsonl"
    started = time.perf_counter()
    rows, size = _data.build_chat_jsonl(jsonl, min_bytes=args.memory_bytes)
    built = time.perf_counter() - started
    print(f"memory input: {rows} lines, {size / 1e6:.0f} MB (built in {built:.0f}s)")
    started = time.perf_counter()
    child = subprocess.run(
        [sys.executable, __file__, "--child", str(jsonl), "--data-dir", str(tmp / "memdata")],
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - started
    if child.returncode:
        raise SystemExit(f"child failed:\n{child.stdout}\n{child.stderr}")
    before = float(child.stdout.split("rss_before_mb=")[1].split()[0])
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(child.stdout.strip())
    print(
        f"worker peak RSS importing {size / 1e6:.0f} MB: {peak:.0f} MB "
        f"({before:.0f} MB before the import; child ran {wall:.0f}s)"
    )
    passed = "yes" if peak <= TARGET_MB else "no"
    print(
        f"BENCH import_memory value={peak:.0f}MB baseline={before:.0f}MB "
        f"ratio={peak / before:.2f} target=<={TARGET_MB}MB pass={passed}"
    )


def child(jsonl: Path, data_dir: Path) -> None:
    """The memory run's worker: set up, report peak RSS so far, import, report again."""
    data_dir.mkdir(parents=True, exist_ok=True)
    _data.django_start(data_dir)
    _data.make_dataset("warm-up")
    print(f"rss_before_mb={_data.peak_rss_mb():.0f}")
    elapsed, job = ours(jsonl, "memory")
    print(f"imported {job.examples_created} examples in {elapsed:.0f}s")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--memory", action="store_true", help="also import a ≈1 GB file")
    parser.add_argument("--memory-bytes", type=int, default=10**9)
    parser.add_argument("--no-timing", action="store_true", help="with --memory: skip the timing")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--data-dir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.data_dir)
        return
    tmp = Path(tempfile.mkdtemp(prefix="bench-import-"))
    try:
        if args.memory:
            memory(args, tmp)
        if not args.no_timing:
            timing(args, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
