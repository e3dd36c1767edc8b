"""Splitting a dataset end to end through ``dataset_split`` (load, group, assign, write), SQLite.

Input (synthetic, seed 1): one dataset of ``--n`` live examples (default 100,000) with bulk-created
revisions (two short chat turns); about 30 % of them sit in stored near-duplicate clusters of 2 to
6 members, and every 50th example repeats the previous one's content hash (exact groups). The
database is a fresh one migrated with the app's own migrations.

Measured, in one run:
- ``split``: the first 80/10/10 split, grouped (every example unassigned, so all are written:
  one UPDATE per split per 5,000 ids, each bumping ``revision``). Target: ≤ 3 s.
- ``resplit``: the same call after adding 10 % more examples (existing ones must not move; that
  is checked).
- ``leakage``: ``dataset_leakage`` after the grouped split (must report 0 pairs).
Baselines printed: the pure ``assign_splits`` on the same items, and a bare single-statement
``UPDATE … SET split`` of every row of the dataset (the floor for writing).

Usage: python bench/split_service.py [--n 100000]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
WORK = tempfile.mkdtemp(prefix="finetunedb-bench-splits-")
os.environ["DATA_DIR"] = WORK
os.environ["DATABASE_URL"] = f"sqlite:///{WORK}/bench.sqlite3"
os.environ["DJANGO_SETTINGS_MODULE"] = "finetunedb.settings.test"

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import transaction  # noqa: E402

from datasets_app.models import (  # noqa: E402
    Dataset,
    DuplicateCluster,
    DuplicateClusterMember,
    Example,
    ExampleRevision,
)
from datasets_app.services.splits import dataset_leakage, dataset_split  # noqa: E402
from datasets_app.splits import SplitItem, assign_splits  # noqa: E402
from finetunedb.teams.models import Membership, Team  # noqa: E402

RATIOS = {"train": 0.8, "validation": 0.1, "test": 0.1}
TARGET_S = 3.0


def add_examples(dataset, user, n: int, start: int, rng: random.Random) -> list[int]:
    with transaction.atomic():
        rows = []
        for i in range(start, start + n):
            same = i % 50 == 1 and i > start
            rows.append(Example(dataset=dataset, content_hash=f"{i - 1 if same else i:064x}"))
        examples = Example.objects.bulk_create(rows, batch_size=5000)
        revisions = ExampleRevision.objects.bulk_create(
            [
                ExampleRevision(
                    example=e,
                    number=1,
                    messages=[
                        {"role": "user", "content": f"question {e.content_hash[-8:]}"},
                        {"role": "assistant", "content": "answer"},
                    ],
                    content_hash=e.content_hash,
                    author=user,
                )
                for e in examples
            ],
            batch_size=5000,
        )
        for e, r in zip(examples, revisions, strict=True):
            e.current_revision_id = r.pk
        Example.objects.bulk_update(examples, ["current_revision"], batch_size=5000)
        ids = [e.pk for e in examples]
        members, i = [], 0
        while i < len(ids):
            size = rng.randint(2, 6) if rng.random() < 0.1 else 1
            if size > 1:
                members.append(ids[i : i + size])
            i += size
        clusters = DuplicateCluster.objects.bulk_create(
            [
                DuplicateCluster(
                    dataset=dataset,
                    method="near",
                    fields="conversation",
                    threshold=0.8,
                    min_similarity=0.85,
                    max_similarity=0.95,
                    size=len(m),
                )
                for m in members
            ],
            batch_size=5000,
        )
        DuplicateClusterMember.objects.bulk_create(
            [
                DuplicateClusterMember(cluster=c, example_id=pk, similarity=0.9)
                for c, m in zip(clusters, members, strict=True)
                for pk in m
            ],
            batch_size=5000,
        )
    return ids


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=100_000)
    args = parser.parse_args()
    rng = random.Random(1)
    call_command("migrate", verbosity=0)
    user = get_user_model().objects.create_user("bench", password="bench-password-123")
    team = Team.objects.create(name="bench")
    Membership.objects.create(team=team, user=user, role="owner")
    dataset = Dataset.objects.create(team=team, name="bench", created_by=user)
    t = time.perf_counter()
    add_examples(dataset, user, args.n, 0, rng)
    print(f"setup: {args.n} examples in {time.perf_counter() - t:.1f}s")

    items = [SplitItem(key=pk) for pk in Example.objects.values_list("pk", flat=True)]
    t = time.perf_counter()
    assign_splits(items, ratios=RATIOS, seed=7)
    pure = time.perf_counter() - t
    t = time.perf_counter()
    Example.objects.filter(dataset=dataset).update(split="train")
    bare = time.perf_counter() - t
    Example.objects.filter(dataset=dataset).update(split="unassigned")
    print(f"baseline pure assign_splits (ungrouped): {pure:.3f}s")
    print(f"baseline bare UPDATE of every row: {bare:.3f}s")

    t = time.perf_counter()
    first = dataset_split(user=user, dataset=dataset, ratios=RATIOS, seed=7)
    split_s = time.perf_counter() - t
    print(f"split: {split_s:.3f}s counts={first['counts']} grouped={first['grouped']}")
    before = dict(Example.objects.values_list("pk", "split"))

    add_examples(dataset, user, args.n // 10, args.n, rng)
    t = time.perf_counter()
    again = dataset_split(user=user, dataset=dataset, ratios=RATIOS, seed=7)
    resplit_s = time.perf_counter() - t
    after = dict(Example.objects.values_list("pk", "split"))
    moved = sum(after[pk] != s for pk, s in before.items())
    print(f"resplit: {resplit_s:.3f}s changed={again['changed']} moved_existing={moved}")

    t = time.perf_counter()
    leakage = dataset_leakage(dataset=dataset)
    leak_s = time.perf_counter() - t
    print(f"leakage: {leak_s:.3f}s pairs={leakage['pair_count']}")

    ok = split_s <= TARGET_S and moved == 0 and leakage["pair_count"] == 0
    print(
        f"BENCH split_service value={split_s:.2f}s baseline={bare:.2f}s "
        f"ratio={split_s / bare:.2f} target=<={TARGET_S:.0f}s pass={'yes' if ok else 'no'}"
    )
    print(
        f"BENCH split_service_resplit value={resplit_s:.2f}s baseline={bare:.2f}s "
        f"ratio={resplit_s / bare:.2f} target=<={TARGET_S:.0f}s "
        f"pass={'yes' if resplit_s <= TARGET_S and moved == 0 else 'no'}"
    )
    shutil.rmtree(WORK, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
