"""Set-based insertion of many new examples (imports): one INSERT per batch for examples and one
for their first revisions, inside the caller's transaction. Ids are reserved up front so the two
tables can reference each other without a second pass."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from itertools import islice

import orjson
from django.db import connection
from django.utils import timezone

BATCH = 2000
EXAMPLE = "datasets_app_example"
REVISION = "datasets_app_examplerevision"
# Content hashes are random, so every insert into the three hash indexes lands on a random page.
# Once those indexes outgrow SQLite's default 2 MiB page cache each batch re-reads and re-writes
# pages through the WAL, and a 200,000-row import spends most of its time there. The cache grows
# on demand up to this size for the bulk insert only (~75 bytes per row per hash index).
SQLITE_BULK_CACHE_KIB = 128 * 1024


@contextmanager
def _bulk_cache(cursor):
    if connection.vendor != "sqlite":
        yield
        return
    cursor.execute("PRAGMA cache_size")
    before = cursor.fetchone()[0]
    cursor.execute(f"PRAGMA cache_size = -{SQLITE_BULK_CACHE_KIB}")
    try:
        yield
    finally:
        cursor.execute(f"PRAGMA cache_size = {int(before)}")


def _reserve_ids(cursor, table: str, count: int) -> Iterator[int]:
    if count == 0:
        return iter(())
    if connection.vendor == "postgresql":
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            [table, count],
        )
        return (row[0] for row in cursor.fetchall())
    # SQLite: the transaction holds the write lock (IMMEDIATE), so nobody else takes these ids.
    # AUTOINCREMENT never reuses an id, so start past both the live maximum and the sequence.
    cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")  # noqa: S608 (constant table)
    top = cursor.fetchone()[0]
    cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
    row = cursor.fetchone()
    start = max(top, row[0] if row else 0) + 1
    return iter(range(start, start + count))


def examples_insert_new(
    *,
    dataset_id: int,
    user_id: int | None,
    rows: Iterable[tuple[dict, str, str]],
    count: int,
    status: str = "draft",
) -> int:
    """Insert ``count`` new examples from ``rows`` of ``(content, source_format, content_hash)``,
    where content is canonical ``{"messages", "tools"?, "metadata"?}`` already validated, each
    in ``status`` (a valid ``ExampleStatus`` value the caller checked).

    Must run inside ``transaction.atomic()``. Returns the number inserted.
    """
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    json_cast = "::jsonb" if connection.vendor == "postgresql" else ""
    example_sql = (
        f"INSERT INTO {EXAMPLE} (id, dataset_id, current_revision_id, content_hash, status, split, "  # noqa: S608
        "split_locked, rating, notes, source_format, revision, created_by_id, created_at, updated_at) "
        "VALUES (%s, %s, %s, %s, %s, 'unassigned', %s, NULL, '', %s, 1, %s, %s, %s)"
    )
    revision_sql = (
        f"INSERT INTO {REVISION} (id, example_id, number, messages, tools, metadata, content_hash, "  # noqa: S608
        f"author_id, created_at) VALUES (%s, %s, 1, %s{json_cast}, %s{json_cast}, %s{json_cast}, %s, %s, %s)"
    )
    inserted = 0
    with connection.cursor() as cursor, _bulk_cache(cursor):
        example_ids = _reserve_ids(cursor, EXAMPLE, count)
        revision_ids = _reserve_ids(cursor, REVISION, count)
        iterator = iter(rows)
        while True:
            batch = list(islice(iterator, BATCH))
            if not batch:
                break
            examples, revisions = [], []
            for content, source_format, chash in batch:
                example_id, revision_id = next(example_ids), next(revision_ids)
                tools = content.get("tools")
                examples.append(
                    (
                        example_id,
                        dataset_id,
                        revision_id,
                        chash,
                        status,
                        False,
                        source_format,
                        user_id,
                        now,
                        now,
                    )
                )
                revisions.append(
                    (
                        revision_id,
                        example_id,
                        orjson.dumps(content["messages"]).decode(),
                        orjson.dumps(tools).decode() if tools else None,
                        orjson.dumps(content.get("metadata") or {}).decode(),
                        chash,
                        user_id,
                        now,
                    )
                )
            # Foreign keys are deferred to commit on both databases, so examples may point at
            # revisions inserted just after them.
            cursor.executemany(example_sql, examples)
            cursor.executemany(revision_sql, revisions)
            inserted += len(batch)
    return inserted
