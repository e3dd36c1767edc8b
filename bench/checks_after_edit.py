"""Edit → the dataset's check report current again, at 50,000 examples: the run after one edit
(incremental: the edited example rescanned, the dataset rules derived again) against the full
run every edit cost before (every example rescanned), same database, same run.

Input: ``--rows`` (50,000) distinct OpenAI chat lines built by ``bench/_data.py`` from
../shared/data, imported with the import service into a fresh SQLite database
(``finetunedb.settings.dev`` under a temporary DATA_DIR), in this process.

Baseline: ``dataset_checks_run(full=True)`` — every example read and scanned again, as the run
``example_checks_after_change`` queued for every edit before issue 16 did (that run also
rewrote every stored row, which a full run now leaves alone where they are unchanged, so the old
cost was higher still; run this file from the older tree, where it times the old run as the
value, for that figure). Value: ``example_update`` of one example
(its own checks, in the edit) and then ``dataset_checks_run()`` as the worker runs it after the
edit: read the stamps, rescan the changed example, derive, replace the stored rows. Each is
timed ``--repeat`` times, interleaved (each value try edits another example); medians. After
the last try the stored results are compared with a full run's, row for row.

    HF_HUB_OFFLINE=1 .venv/bin/python bench/checks_after_edit.py [--rows 50000]
"""

from __future__ import annotations

import argparse
import inspect
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _data  # noqa: E402

TARGET = 0.25  # the run after an edit costs at most a quarter of a full run


def stored(dataset_id: int):
    from datasets_app.models import CheckResult, DatasetReport

    rows = sorted(
        CheckResult.objects.filter(dataset_id=dataset_id).values_list(
            "example_id", "rule_id", "severity", "scope", "message", "path", "details"
        ),
        key=repr,
    )
    report = DatasetReport.objects.values(
        "n_examples", "token_stats", "histograms", "dataset_findings"
    ).get(dataset_id=dataset_id)
    return rows, report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="bench-checks-edit-"))
    jsonl = tmp / "rows.jsonl"
    rows, size = _data.build_chat_jsonl(jsonl, rows=args.rows)
    _data.django_start(tmp / "data")
    from django.core.files import File

    from datasets_app.models import Example
    from datasets_app.services.checks import dataset_checks_run
    from datasets_app.services.examples import example_update
    from datasets_app.services.imports import import_job_create, import_job_run, jobs

    user, dataset = _data.make_dataset("edited")
    with open(jsonl, "rb") as handle:
        upload = File(handle, name=jsonl.name)
        upload.size = size
        enqueue, jobs.import_job_enqueue = jobs.import_job_enqueue, lambda job_id: None
        try:
            job = import_job_create(user=user, dataset=dataset, upload=upload)
        finally:
            jobs.import_job_enqueue = enqueue
    started = time.perf_counter()
    import_job_run(job_id=job.pk)
    print(
        f"input: {rows:,} examples, {size / 1e6:.1f} MB, imported in {time.perf_counter() - started:.0f}s"
    )

    ids = list(Example.objects.filter(dataset=dataset).order_by("pk").values_list("pk", flat=True))
    # A tree from before issue 16 has no full flag: every run is a full one there.
    full = {"full": True} if "full" in inspect.signature(dataset_checks_run).parameters else {}
    dataset_checks_run(dataset_id=dataset.pk, **full)  # warm: encodings loaded, scans kept
    fulls, edits = [], []
    for n in range(args.repeat):
        started = time.perf_counter()
        dataset_checks_run(dataset_id=dataset.pk, **full)
        fulls.append(time.perf_counter() - started)

        example = Example.objects.select_related("dataset", "current_revision").get(
            pk=ids[(n * 7919) % len(ids)]
        )
        messages = [dict(m) for m in example.current_revision.messages]
        messages[-1]["content"] = f"{messages[-1]['content']} (edited {n})"
        started = time.perf_counter()
        example_update(
            user=user,
            example=example,
            expected_revision=example.revision,
            changes={"messages": messages},
        )
        dataset_checks_run(dataset_id=dataset.pk)  # before issue 16: the full run
        edits.append(time.perf_counter() - started)
        print(
            f"try {n + 1}: full run {fulls[-1]:.2f}s, edit + run after it {edits[-1]:.2f}s",
            flush=True,
        )

    after_edits = stored(dataset.pk)
    dataset_checks_run(dataset_id=dataset.pk, **full)
    same = stored(dataset.pk) == after_edits
    print(f"stored results after the edits equal a full run's: {'yes' if same else 'NO'}")
    base, value = statistics.median(fulls), statistics.median(edits)
    ratio = value / base
    print(
        f"BENCH checks_after_edit value={value:.2f}s baseline={base:.2f}s ratio={ratio:.2f} "
        f"target=<={TARGET:g} pass={'yes' if ratio <= TARGET and same else 'no'}"
    )


if __name__ == "__main__":
    main()
