"""Export of a dataset (OpenAI chat JSONL, streamed) against the floor of the same machine, same run.

Input: ``--rows`` (default 100,000) examples in one dataset of a fresh SQLite database
(``finetunedb.settings.dev`` pointed at a temporary DATA_DIR), filled with
``examples_insert_new`` from the file ``bench/_data.py`` builds from ../shared/data (≈107 MB
of distinct chat lines; see there).

Baseline (the floor): one ``sqlite3`` query joining examples to their current revisions in id
order (the same filter: the dataset, not archived), ``orjson.loads`` of the stored messages/tools
JSON text and ``orjson.dumps`` of each line with sorted keys (what any exporter of stored JSON
must do to write canonical lines), bytes counted.

Value: ``dataset_export(format="openai")`` — permission check, queryset, chunked iterator, the
streaming writer — every chunk consumed and counted. Both must produce the same number of bytes.

Version export: the same rows frozen into a version (``dataset_version_freeze``, forced past the
gates), ``dataset_version_export(format="openai")`` against the same floor over the version's
entries and their revisions in example id order. Same target, same byte count.
Memory: a fresh process (Django set up, modules imported) exports the same dataset and reports its peak
RSS during the export minus its RSS before (VmHWM reset first); it stays flat whatever the row
count because nothing is held beyond one chunk of rows.
"""

from __future__ import annotations

import argparse
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

TARGET_RATIO = 2.0
TARGET_GROWTH_MB = 64


def fill(jsonl: Path, dataset, user) -> int:
    from django.db import transaction

    from datasets_app import canonical
    from datasets_app.services.example_rows import examples_insert_new

    def rows():
        with open(jsonl, "rb") as handle:
            for line in handle:
                content = orjson.loads(line)
                chash = canonical.content_hash(content["messages"], content.get("tools"))
                yield content, "openai", chash

    count = sum(1 for _ in open(jsonl, "rb"))
    with transaction.atomic():
        return examples_insert_new(dataset_id=dataset.pk, user_id=user.pk, rows=rows(), count=count)


WORKING_COPY_SQL = (
    "SELECT e.id, r.messages, r.tools FROM datasets_app_example e "
    "JOIN datasets_app_examplerevision r ON r.id = e.current_revision_id "
    "WHERE e.dataset_id = ? AND e.status != 'archived' ORDER BY e.id"
)
VERSION_SQL = (
    "SELECT v.example_id, r.messages, r.tools FROM datasets_app_versionentry v "
    "JOIN datasets_app_examplerevision r ON r.id = v.revision_id "
    "WHERE v.version_id = ? ORDER BY v.example_id"
)


def floor(db_path: Path, sql: str, owner_id: int) -> tuple[float, int]:
    """The floor over the rows ``sql`` selects for the dataset or version ``owner_id``."""
    start = time.perf_counter()
    db = sqlite3.connect(db_path)
    size = _lines_size(db.execute(sql, (owner_id,)))
    db.close()
    return time.perf_counter() - start, size


def _lines_size(cursor) -> int:
    loads, dumps = orjson.loads, orjson.dumps
    option = orjson.OPT_SORT_KEYS | orjson.OPT_APPEND_NEWLINE
    size = 0
    for _, messages, tools in cursor:
        obj = {"messages": loads(messages)}
        if tools is not None:
            tools = loads(tools)
            if tools:
                obj["tools"] = tools
        size += len(dumps(obj, option=option))
    return size


def version_ours(user, version) -> tuple[float, int]:
    from datasets_app.services.export import dataset_version_export

    start = time.perf_counter()
    size = sum(len(chunk) for chunk in dataset_version_export(user=user, version=version))
    return time.perf_counter() - start, size


def ours(user, dataset) -> tuple[float, int]:
    from datasets_app.services.export import dataset_export

    start = time.perf_counter()
    size = sum(len(chunk) for chunk in dataset_export(user=user, dataset=dataset))
    return time.perf_counter() - start, size


def memory_child(data_dir: Path, dataset_id: int) -> None:
    """A fresh process (no memory freed by the fill to reuse): RSS before, peak during the export."""
    _data.django_start(data_dir)
    import datasets_app.services.export  # noqa: F401  (module imports are not the export's)
    from datasets_app.models import Dataset

    dataset = Dataset.objects.select_related("created_by").get(pk=dataset_id)
    _data.reset_peak_rss()
    before = _data.peak_rss_mb()
    ours(dataset.created_by, dataset)
    print(f"rss_before_mb={before:.1f} peak_mb={_data.peak_rss_mb():.1f}")


def memory(data_dir: Path, dataset_id: int) -> tuple[float, float]:
    child = subprocess.run(
        [sys.executable, __file__, "--child", str(data_dir), "--dataset", str(dataset_id)],
        capture_output=True,
        text=True,
        check=True,
    )
    fields = dict(item.split("=") for item in child.stdout.split() if "=" in item)
    return float(fields["rss_before_mb"]), float(fields["peak_mb"])


def profile(user, dataset) -> None:
    import cProfile
    import pstats

    from datasets_app.services.export import dataset_export

    profiler = cProfile.Profile()
    profiler.enable()
    for _ in dataset_export(user=user, dataset=dataset):
        pass
    profiler.disable()
    pstats.Stats(profiler).sort_stats("tottime").print_stats(15)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--dataset", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        memory_child(args.child, args.dataset)
        return
    tmp = Path(tempfile.mkdtemp(prefix="bench-export-"))
    try:
        jsonl = tmp / "bench.jsonl"
        rows, size = _data.build_chat_jsonl(jsonl, rows=args.rows)
        _data.django_start(tmp / "data")
        from django.db import connection

        user, dataset = _data.make_dataset("export")
        started = time.perf_counter()
        fill(jsonl, dataset, user)
        print(
            f"input: {rows} examples from {size / 1e6:.1f} MB ({time.perf_counter() - started:.0f}s to fill)"
        )
        db_path = Path(connection.settings_dict["NAME"])
        if args.profile:
            profile(user, dataset)
        from datasets_app.services.versions import dataset_version_freeze

        version = dataset_version_freeze(user=user, dataset=dataset, force=True, reason="bench")
        runs, floors, version_runs, version_floors = [], [], [], []
        for _ in range(args.repeat):
            runs.append(ours(user, dataset))
            floors.append(floor(db_path, WORKING_COPY_SQL, dataset.pk))
            version_runs.append(version_ours(user, version))
            version_floors.append(floor(db_path, VERSION_SQL, version.pk))
        before, peak = memory(tmp / "data", dataset.pk)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    value, out_bytes = min(runs)
    base, floor_bytes = min(floors)
    if out_bytes != floor_bytes:
        raise SystemExit(f"outputs differ: ours {out_bytes} bytes, floor {floor_bytes} bytes")
    version_value, version_bytes = min(version_runs)
    version_base, version_floor_bytes = min(version_floors)
    if version_bytes != version_floor_bytes:
        raise SystemExit(
            f"version outputs differ: ours {version_bytes} bytes, floor {version_floor_bytes} bytes"
        )
    ratio = value / base
    version_ratio = version_value / version_base
    print(f"floor (sqlite3 + orjson loads/dumps): {base:.2f}s ({rows / base:,.0f} rows/s)")
    print(
        f"dataset_export openai, streamed:      {value:.2f}s ({rows / value:,.0f} rows/s), {out_bytes / 1e6:.1f} MB"
    )
    print(
        f"version floor (same, over entries):   {version_base:.2f}s ({rows / version_base:,.0f} rows/s)"
    )
    print(
        f"dataset_version_export openai:        {version_value:.2f}s ({rows / version_value:,.0f} rows/s)"
    )
    growth = peak - before
    print(
        f"export in a fresh process: RSS {before:.0f} MB before, peak {peak:.0f} MB (+{growth:.1f} MB)"
    )
    print(
        f"BENCH export value={value:.2f}s baseline={base:.2f}s ratio={ratio:.2f} "
        f"target=<={TARGET_RATIO:g} pass={'yes' if ratio <= TARGET_RATIO else 'no'}"
    )
    print(
        f"BENCH version_export value={version_value:.2f}s baseline={version_base:.2f}s "
        f"ratio={version_ratio:.2f} target=<={TARGET_RATIO:g} "
        f"pass={'yes' if version_ratio <= TARGET_RATIO else 'no'}"
    )
    print(
        f"BENCH export_memory value={growth:.1f}MB baseline={out_bytes / 1e6:.0f}MB "
        f"ratio={growth / (out_bytes / 1e6):.3f} target=<={TARGET_GROWTH_MB}MB "
        f"pass={'yes' if growth <= TARGET_GROWTH_MB else 'no'}"
    )


if __name__ == "__main__":
    main()
