"""Freezing a version and diffing two, on SQLite, against bare SQL baselines of the same run.

Input (synthetic): one dataset of ``--n`` examples (default 1,000,000) built with raw SQL — a
recursive CTE writes examples and their revisions (two short chat turns each, a random 64-hex
content hash, splits 80/10/10) into a fresh database migrated with the app's own migrations, so
the entry table's indexes and immutability triggers are the real ones.

Measured:
- ``freeze``: ``dataset_version_freeze`` (gate queries, the INSERT … SELECT of entries, reading
  them back sorted for the version hash and the counts, stats) against a bare
  ``INSERT INTO copy SELECT`` of the same rows (same join and filter) into a table of the same
  columns without foreign keys or triggers. Target: ratio ≤ 3.
- the baseline of the BENCH line is the copy into a table WITH the entry table's indexes (the
  unique (version, example) index and those on example and revision, which integrity checks on
  example and revision deletes need); the ratio to an index-free copy is printed as well.
- ``diff``: ``dataset_version_diff`` of two versions of ``--diff-n`` examples (default 100,000;
  between them 5 % changed content, 5 % moved split, 2 % archived, 2 % added), first page.
  Target: ≤ 2 s. Baseline printed: fetching both versions' entries with a plain cursor.

Usage: python bench/versions.py [--n 1000000] [--diff-n 100000]
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
WORK = tempfile.mkdtemp(prefix="finetunedb-bench-versions-")
os.environ["DATA_DIR"] = WORK
os.environ["DATABASE_URL"] = f"sqlite:///{WORK}/bench.sqlite3"
os.environ["DJANGO_SETTINGS_MODULE"] = "finetunedb.settings.test"

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from datasets_app.models import Dataset  # noqa: E402
from datasets_app.services.versions import (  # noqa: E402
    dataset_version_diff,
    dataset_version_freeze,
)
from datasets_app.services.versions.freeze import SNAPSHOT_SQL  # noqa: E402
from finetunedb.teams.models import Membership, Team  # noqa: E402

ENTRY_COLUMNS = (
    "version_id bigint, example_id bigint, revision_id bigint, split varchar(16), "
    "status varchar(16), content_hash varchar(64)"
)


def build(dataset_id: int, n: int, first_id: int) -> None:
    """n examples with ids first_id.. and one revision each (same ids), in one transaction."""
    split = "CASE WHEN i % 10 < 8 THEN 'train' WHEN i % 10 = 8 THEN 'validation' ELSE 'test' END"
    with transaction.atomic(), connection.cursor() as c:
        c.execute(
            f"""WITH RECURSIVE seq(i) AS (SELECT {first_id} UNION ALL SELECT i + 1 FROM seq
                WHERE i < {first_id + n - 1})
            INSERT INTO datasets_app_examplerevision
                (id, example_id, number, messages, tools, metadata, content_hash, created_at)
            SELECT i, i, 1, '[{{"role":"user","content":"question ' || i ||
                '"}},{{"role":"assistant","content":"answer ' || i || '"}}]',
                NULL, '{{}}', lower(hex(randomblob(32))), '2026-01-01 00:00:00' FROM seq"""
        )
        c.execute(
            f"""INSERT INTO datasets_app_example (id, dataset_id, current_revision_id,
                content_hash, status, split, split_locked, notes, source_format, revision,
                created_at, updated_at)
            SELECT r.id, {dataset_id}, r.id, r.content_hash, 'approved',
                {split.replace("i %", "r.id %")}, 0, '', 'bench', 1,
                '2026-01-01 00:00:00', '2026-01-01 00:00:00'
            FROM datasets_app_examplerevision r WHERE r.id >= {first_id}"""
        )


def timed(fn):
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def bare_copy(dataset_id: int, indexed: bool) -> float:
    with connection.cursor() as c:
        c.execute("DROP TABLE IF EXISTS bench_copy")
        c.execute(
            f"CREATE TABLE bench_copy (id integer PRIMARY KEY AUTOINCREMENT, {ENTRY_COLUMNS})"
        )
        if indexed:
            c.execute("CREATE UNIQUE INDEX bench_copy_ve ON bench_copy (version_id, example_id)")
            c.execute("CREATE INDEX bench_copy_e ON bench_copy (example_id)")
            c.execute("CREATE INDEX bench_copy_r ON bench_copy (revision_id)")
    sql = SNAPSHOT_SQL.replace("datasets_app_versionentry", "bench_copy")

    def run():
        with transaction.atomic(), connection.cursor() as c:
            c.execute(sql, [1, dataset_id, "archived"])

    seconds, _ = timed(run)
    return seconds


def drift(dataset_id: int, first_id: int, n: int) -> None:
    """5 % new content, 5 % moved, 2 % archived, 2 % added."""
    # Added first: the new revisions below take autoincrement ids after every explicit one.
    build(dataset_id, n // 50, first_id + n)
    with transaction.atomic(), connection.cursor() as c:
        c.execute(
            f"""INSERT INTO datasets_app_examplerevision
                (example_id, number, messages, tools, metadata, content_hash, created_at)
            SELECT id, 2, '[{{"role":"user","content":"question ' || id ||
                '"}},{{"role":"assistant","content":"better answer"}}]', NULL, '{{}}',
                lower(hex(randomblob(32))), '2026-01-02 00:00:00'
            FROM datasets_app_example WHERE dataset_id = {dataset_id} AND id % 20 = 1"""
        )
        c.execute(
            f"""UPDATE datasets_app_example SET current_revision_id = r.id,
                content_hash = r.content_hash, revision = 2
            FROM datasets_app_examplerevision r
            WHERE r.example_id = datasets_app_example.id AND r.number = 2
              AND datasets_app_example.dataset_id = {dataset_id}"""
        )
        c.execute(
            f"UPDATE datasets_app_example SET split = 'test' WHERE dataset_id = {dataset_id} "
            "AND id % 20 = 2 AND split <> 'test'"
        )
        c.execute(
            f"UPDATE datasets_app_example SET status = 'archived' WHERE dataset_id = {dataset_id} "
            "AND id % 50 = 3"
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--diff-n", type=int, default=100_000)
    args = parser.parse_args()

    call_command("migrate", verbosity=0)
    user = get_user_model().objects.create_user("bench")
    team = Team.objects.create(name="bench")
    Membership.objects.create(team=team, user=user, role="owner")
    big = Dataset.objects.create(team=team, name="big")
    small = Dataset.objects.create(team=team, name="small")

    seconds, _ = timed(lambda: build(big.pk, args.n, 1))
    print(f"build {args.n:,} examples with raw SQL: {seconds:.1f}s")
    bare = bare_copy(big.pk, indexed=False)
    print(f"bare INSERT … SELECT of {args.n:,} rows (no indexes): {bare:.2f}s")
    indexed = bare_copy(big.pk, indexed=True)
    print(f"bare INSERT … SELECT of {args.n:,} rows (entry indexes): {indexed:.2f}s")
    freeze_s, version = timed(lambda: dataset_version_freeze(user=user, dataset=big, name="b"))
    assert version.total == args.n
    print(
        f"dataset_version_freeze of {args.n:,} examples: {freeze_s:.2f}s "
        f"(x{freeze_s / bare:.2f} bare, x{freeze_s / indexed:.2f} indexed copy)"
    )

    first = 10 * args.n
    build(small.pk, args.diff_n, first)
    v1 = dataset_version_freeze(user=user, dataset=small, name="before")
    drift(small.pk, first, args.diff_n)
    v2 = dataset_version_freeze(user=user, dataset=small, name="after")

    def fetch_both():
        with connection.cursor() as c:
            for v in (v1, v2):
                c.execute(
                    "SELECT example_id, revision_id, split, content_hash "
                    "FROM datasets_app_versionentry WHERE version_id = %s",
                    [v.pk],
                )
                c.fetchall()

    fetch_s, _ = timed(fetch_both)
    diff_s, diff = timed(lambda: dataset_version_diff(version=v2, against=v1))
    print(
        f"dataset_version_diff of {v1.total:,} vs {v2.total:,} entries: {diff_s:.2f}s "
        f"(fetching both entry lists alone: {fetch_s:.2f}s) summary={diff['summary']}"
    )
    # The target's baseline is the copy into a table with the entry table's indexes: a snapshot
    # without them could not be read by version nor checked on example/revision deletes.
    ratio = freeze_s / indexed
    print(
        f"BENCH version_freeze_{args.n} value={freeze_s:.2f}s baseline={indexed:.2f}s "
        f"ratio={ratio:.2f} target=<=3 pass={'yes' if ratio <= 3 else 'no'}"
    )
    print(
        f"BENCH version_diff_{args.diff_n} value={diff_s:.2f}s baseline={fetch_s:.2f}s "
        f"ratio={diff_s / fetch_s:.2f} target=<=2s pass={'yes' if diff_s <= 2 else 'no'}"
    )


if __name__ == "__main__":
    try:
        main()
    finally:
        shutil.rmtree(WORK, ignore_errors=True)
