"""Slow page actions as jobs (issue 16.3): how long the page makes the person wait, before and
after, on SQLite, in the same run.

Input (synthetic, as bench/versions.py): one dataset of ``--n`` examples (default 52,002, the
alpaca_eval file of the issue) written with raw SQL into a fresh database migrated with the
app's own migrations.

Measured, for the freeze and the split:
- baseline: the action done inside the request, as the pages did before (the service called
  directly: ``dataset_version_freeze``, ``dataset_split``), i.e. how long the page froze;
- value: the page's answer now — ``POST`` through Django's test client, the job queued (its task
  recorded, not run), the redirect to its status page returned. Target: ≤ 1 s whatever n.
- the job itself afterwards (``action_job_run_next`` in this process): what the work costs as a
  job against the same service call; target ratio ≤ 1.1.

Usage: python bench/action_jobs.py [--n 52002]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
WORK = tempfile.mkdtemp(prefix="finetunedb-bench-actions-")
os.environ["DATA_DIR"] = WORK
os.environ["DATABASE_URL"] = f"sqlite:///{WORK}/bench.sqlite3"
os.environ["DJANGO_SETTINGS_MODULE"] = "finetunedb.settings.test"

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402

from datasets_app.models import Dataset, DatasetVersion, Example  # noqa: E402
from datasets_app.services.splits import dataset_split  # noqa: E402
from datasets_app.services.versions import dataset_version_freeze  # noqa: E402
from finetunedb.actions import services as action_services  # noqa: E402
from finetunedb.actions.models import ActionJob  # noqa: E402
from finetunedb.teams.models import Membership, Team  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from versions import build  # noqa: E402

TARGET_ANSWER_S = 1.0
TARGET_JOB_RATIO = 1.1
RATIOS = {"train": 0.8, "validation": 0.1, "test": 0.1}


def timed(fn):
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def line(name, value, baseline, target, ok):
    print(
        f"BENCH {name} value={value:.3f}s baseline={baseline:.3f}s ratio={value / baseline:.3f} "
        f"target={target} pass={'yes' if ok else 'no'}"
    )


def run_job() -> float:
    seconds, _ = timed(action_services.action_job_run_next)
    job = ActionJob.objects.order_by("-id").first()
    assert job.status == "succeeded", job.failure_reason
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=52_002)
    args = parser.parse_args()

    call_command("migrate", verbosity=0)
    user = get_user_model().objects.create_user("bench")
    team = Team.objects.create(name="bench")
    Membership.objects.create(team=team, user=user, role="owner")
    dataset = Dataset.objects.create(team=team, name="big")
    seconds, _ = timed(lambda: build(dataset.pk, args.n, 1))
    print(f"build {args.n:,} examples with raw SQL: {seconds:.1f}s")

    queued: list[int] = []
    action_services.action_job_enqueue = queued.append  # the task is recorded, not run
    client = Client()
    client.force_login(user)
    client.get(f"/datasets/{dataset.pk}/versions/")  # first-request costs out of the figures
    first, _ = timed(lambda: dataset_version_freeze(user=user, dataset=dataset, name="warm"))
    print(f"first freeze (builds the dataset's report): {first:.2f}s")

    # Freeze: the page before (the service in the request), the page now, the job afterwards.
    sync_freeze, _ = timed(lambda: dataset_version_freeze(user=user, dataset=dataset, name="a"))
    answer, response = timed(
        lambda: client.post(f"/datasets/{dataset.pk}/versions/", {"name": "b"})
    )
    assert response.status_code == 302 and response["Location"].startswith("/actions/")
    job_freeze = run_job()
    assert DatasetVersion.objects.filter(dataset=dataset).count() == 3
    print(f"freeze of {args.n:,}: in the request {sync_freeze:.2f}s; page answer {answer:.3f}s")
    line("freeze_page_answer", answer, sync_freeze, f"<={TARGET_ANSWER_S}s", answer <= 1)
    ratio = job_freeze / sync_freeze
    line("freeze_job", job_freeze, sync_freeze, f"<={TARGET_JOB_RATIO}", ratio <= 1.1)

    # Split: the same; the second split moves nothing (existing splits are kept), so the
    # baseline resets every example to unassigned first, as the job run does.
    def unassigned():
        Example.objects.filter(dataset=dataset).update(split="unassigned")

    unassigned()
    sync_split, _ = timed(lambda: dataset_split(user=user, dataset=dataset, ratios=RATIOS, seed=1))
    unassigned()
    answer, response = timed(
        lambda: client.post(
            f"/datasets/{dataset.pk}/split/",
            {"preset": "80/10/10", "seed": "1", "group_near_duplicates": "on"},
        )
    )
    assert response.status_code == 302 and response["Location"].startswith("/actions/")
    job_split = run_job()
    print(f"split of {args.n:,}: in the request {sync_split:.2f}s; page answer {answer:.3f}s")
    line("split_page_answer", answer, sync_split, f"<={TARGET_ANSWER_S}s", answer <= 1)
    ratio = job_split / sync_split
    line("split_job", job_split, sync_split, f"<={TARGET_JOB_RATIO}", ratio <= 1.1)
    shutil.rmtree(WORK, ignore_errors=True)


if __name__ == "__main__":
    main()
