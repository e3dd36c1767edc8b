"""What the storage quota costs an upload: measuring a team's usage against what every import
already pays, on the same database in the same run.

Input: ``--rows`` (default 100,000) distinct OpenAI chat examples built from ../shared/data by
``bench/_data.py`` (≈1 KB each; see there), inserted into one dataset of a fresh SQLite database
(``finetunedb.settings.dev``) with the import's own bulk insert, plus ``--jobs`` import job rows
(size only, no files) and no training runs.

Value: ``team_storage_usage`` (uploads aggregate, report stats, run folders, and the sum of the
stored bytes of every revision) — paid once per upload (the API measures before reading the body
and reuses it before storing the file), once per training launch, and per upload-page view.

Baseline: loading the dataset's content hashes into a set, which ``import_job_run`` does at the
start of every import to count duplicates (``values_list("content_hash")`` over the same rows).
Best of ``--repeat`` for both.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import tempfile
import time
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _data  # noqa: E402

TARGET_RATIO = 2.0


def best_of(repeat: int, call) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeat):
        started = time.perf_counter()
        result = call()
        best = min(best, time.perf_counter() - started)
    return best, result


def fill(dataset, user, rows: int, jobs: int) -> int:
    from django.db import transaction

    from datasets_app import canonical
    from datasets_app.models import ImportJob
    from datasets_app.services.example_rows import examples_insert_new

    def staged():
        for _, line in zip(range(rows), _data._lines(_data._pool()), strict=False):
            content = orjson.loads(line)
            chash = canonical.content_hash(content["messages"], content.get("tools"))
            yield content, "openai", chash

    with transaction.atomic():
        created = examples_insert_new(
            dataset_id=dataset.pk, user_id=user.pk, rows=staged(), count=rows
        )
    ImportJob.objects.bulk_create(
        ImportJob(
            dataset=dataset,
            stored_name=hashlib.sha256(str(i).encode()).hexdigest()[:32],
            size_bytes=1_000_000,
            status="succeeded",
        )
        for i in range(jobs)
    )
    return created


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-quota-") as tmp:
        _data.django_start(Path(tmp))
        from datasets_app.models import Example, ExampleStatus
        from finetunedb.teams.quota import team_storage_usage

        user, dataset = _data.make_dataset("quota")
        created = fill(dataset, user, args.rows, args.jobs)
        print(f"input: {created} examples, {args.jobs} import jobs in one team")

        def baseline():
            return set(
                Example.objects.filter(dataset_id=dataset.pk)
                .exclude(status=ExampleStatus.ARCHIVED)
                .values_list("content_hash", flat=True)
            )

        base, hashes = best_of(args.repeat, baseline)
        value, usage = best_of(args.repeat, lambda: team_storage_usage(team_id=dataset.team_id))
        assert hashes and usage.content > 0, usage
        print(f"duplicate-hash load of every import (baseline): {base * 1000:.0f} ms")
        print(
            f"team_storage_usage: {value * 1000:.0f} ms (content {usage.content / 1e6:.1f} MB, "
            f"uploads {usage.uploads / 1e6:.0f} MB)"
        )
        ratio = value / base
        print(
            f"BENCH storage_usage value={value * 1000:.0f}ms baseline={base * 1000:.0f}ms "
            f"ratio={ratio:.2f} target=<={TARGET_RATIO:g} "
            f"pass={'yes' if ratio <= TARGET_RATIO else 'no'}"
        )


if __name__ == "__main__":
    main()
