"""Writing validated log rows: one function, the fastest statement each database offers.

``log_rows_insert`` is what ``log_batch_create`` calls inside its transaction. Django's
``bulk_create`` builds a model instance per row and prepares every field of every row through
the field API — about 70% of an ingest batch at 1,000 logs. The rows here are already plain
validated values, so they go to the database directly:

* SQLite (3.35+, for RETURNING): multi-row ``INSERT … VALUES (…), (…) RETURNING id``.
* PostgreSQL: ids drawn from the table's sequence, then ``COPY … FROM STDIN`` (psycopg 3).
* any other backend: ``bulk_create``, which is also the reference the tests compare the fast
  paths with (``log_rows_insert_reference``): the same rows must read back the same.

Tags and metadata values go to their index tables (``LogTag``, ``LogMeta``) the same way, and
each log's words to the full-text index (``capture.search``: FTS5 on SQLite, a tsvector table
on PostgreSQL; nothing on other backends, which scan ``search_text``).
"""

from __future__ import annotations

from itertools import chain

import orjson
from django.db import connection, models
from django.utils import timezone

from ..entries import metadata_terms
from ..models import Log, LogMeta, LogTag
from ..search import FTS_TABLE, POSTGRES_TABLE, index_document, index_terms, postgres_document

_SQLITE_MIN = (3, 35, 0)  # INSERT … RETURNING


def _columns():
    return [f for f in Log._meta.concrete_fields if not f.primary_key]


def _defaults(field):
    if field.has_default():
        return field.get_default()
    return None


def _encoded(fields, rows: list[dict], batch: dict) -> list[list]:
    """Each row as a list of database values in ``fields`` order (JSON as text, times UTC).

    The columns are sorted once into kinds, so a row costs one loop per kind, not a test of
    each field's kind per value (6.4 -> 3 us a log)."""
    adapt_time = connection.ops.adapt_datetimefield_value
    template, plain, json, times = [], [], [], []
    for i, f in enumerate(fields):
        template.append(batch.get(f.attname))
        if f.attname in batch:
            continue
        if isinstance(f, models.JSONField):
            json.append((i, f.name, _defaults(f)))
        elif isinstance(f, models.DateTimeField):
            times.append((i, f.name))
        else:
            plain.append((i, f.name, _defaults(f)))
    dumps = orjson.dumps
    out = []
    for row in rows:
        values = template.copy()
        get = row.get
        for i, name, default in plain:
            values[i] = get(name, default)
        for i, name, default in json:
            value = get(name, default)
            values[i] = None if value is None else dumps(value).decode()
        for i, name in times:
            value = get(name)
            values[i] = None if value is None else adapt_time(value)
        out.append(values)
    return out


def _side_rows(team_id: int, ids: list[int], rows: list[dict]):
    tags = [
        (log_id, team_id, tag) for log_id, row in zip(ids, rows, strict=True) for tag in row["tags"]
    ]
    meta = [
        (log_id, team_id, key, value)
        for log_id, row in zip(ids, rows, strict=True)
        for key, value in metadata_terms(row.get("metadata") or {})
    ]
    return tags, meta


def log_rows_insert(
    *, team_id: int, rows: list[dict], source: str, ingest_key_id: int | None
) -> list[int]:
    """Insert ``rows`` (``entry_parse`` output) for one team; their new ids, in row order.

    Runs inside the caller's transaction: on any error nothing of the batch stays.
    """
    if not rows:
        return []
    vendor = connection.vendor
    if vendor == "sqlite" and _sqlite_version() >= _SQLITE_MIN:
        return _sqlite_insert(team_id, rows, source, ingest_key_id)
    if vendor == "postgresql":
        return _postgres_copy(team_id, rows, source, ingest_key_id)
    return log_rows_insert_reference(
        team_id=team_id, rows=rows, source=source, ingest_key_id=ingest_key_id
    )


def log_rows_insert_reference(
    *, team_id: int, rows: list[dict], source: str, ingest_key_id: int | None
) -> list[int]:
    """The same insert through the ORM (slow; any backend)."""
    logs = Log.objects.bulk_create(
        [Log(team_id=team_id, source=source, ingest_key_id=ingest_key_id, **row) for row in rows],
        batch_size=500,
    )
    ids = [log.pk for log in logs]
    if None in ids:  # a backend that does not return ids from a bulk insert
        raise RuntimeError("bulk insert returned no ids")
    tags, meta = _side_rows(team_id, ids, rows)
    LogTag.objects.bulk_create(
        [LogTag(log_id=i, team_id=t, name=n) for i, t, n in tags], batch_size=1000
    )
    LogMeta.objects.bulk_create(
        [LogMeta(log_id=i, team_id=t, key=k, value=v) for i, t, k, v in meta], batch_size=1000
    )
    _index_reference(team_id, ids, rows)
    return ids


def _index_reference(team_id: int, ids: list[int], rows: list[dict]) -> None:
    vendor = connection.vendor
    if vendor not in ("sqlite", "postgresql"):
        return
    if vendor == "sqlite":
        sql = f"INSERT INTO {FTS_TABLE} (rowid, terms) VALUES (%s, %s)"  # noqa: S608
    else:
        sql = f"INSERT INTO {POSTGRES_TABLE} (log_id, document) VALUES (%s, %s::tsvector)"  # noqa: S608
    encode = " ".join if vendor == "sqlite" else postgres_document
    with connection.cursor() as cursor:
        cursor.executemany(
            sql,
            [
                (log_id, encode(index_terms(team_id, row.get("search_text") or "")))
                for log_id, row in zip(ids, rows, strict=True)
            ],
        )


def _sqlite_version() -> tuple[int, ...]:
    import sqlite3

    return sqlite3.sqlite_version_info


def _max_variables() -> int:
    import sqlite3

    connection.ensure_connection()
    try:
        return connection.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    except AttributeError:  # Python < 3.11
        return 999


def _sqlite_insert(team_id, rows, source, ingest_key_id) -> list[int]:
    fields = _columns()
    batch = {
        "team_id": team_id,
        "source": source,
        "ingest_key_id": ingest_key_id,
        "created_at": connection.ops.adapt_datetimefield_value(timezone.now()),
    }
    values = _encoded(fields, rows, batch)
    names = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    one = "(" + ", ".join("?" * len(fields)) + ")"
    per = max(1, min(500, _max_variables() // len(fields)))
    qn = connection.ops.quote_name
    table = qn(Log._meta.db_table)
    # the sqlite3 connection itself: "?" placeholders as they are (Django's cursor rewrites "%s"
    # on every statement); its errors still become django.db's through wrap_database_errors
    raw = connection.connection
    limit = _max_variables()
    with connection.wrap_database_errors:
        ids = _sqlite_statements(raw, table, names, one, per, values)
        tags, meta = _side_rows(team_id, ids, rows)
        _sqlite_values(raw, f"{qn(LogTag._meta.db_table)} (log_id, team_id, name)", tags, limit)
        _sqlite_values(
            raw, f'{qn(LogMeta._meta.db_table)} (log_id, team_id, "key", value)', meta, limit
        )
        words = [
            (log_id, index_document(team_id, row["search_text"]))
            for log_id, row in zip(ids, rows, strict=True)
        ]
        _sqlite_values(raw, f"{FTS_TABLE} (rowid, terms)", words, limit)
    return ids


def _sqlite_values(raw, into: str, rows: list[tuple], limit: int) -> None:
    """``INSERT INTO <into> VALUES (…), (…)`` in as few statements as the variable limit
    allows: one statement steps through its rows in C, where ``executemany`` binds and steps
    each row from Python (half the time for a batch's 2,000 tag rows)."""
    if not rows:
        return
    width = len(rows[0])
    per = max(1, min(1000, limit // width))
    one = "(" + ", ".join("?" * width) + ")"
    for start in range(0, len(rows), per):
        chunk = rows[start : start + per]
        raw.execute(
            f"INSERT INTO {into} VALUES {', '.join([one] * len(chunk))}",  # noqa: S608 (constants)
            list(chain.from_iterable(chunk)),  # flattened in C
        )


def _sqlite_statements(raw, table, names, one, per, values) -> list[int]:
    ids: list[int] = []
    for start in range(0, len(values), per):
        chunk = values[start : start + per]
        sql = f"INSERT INTO {table} ({names}) VALUES {', '.join([one] * len(chunk))} RETURNING id"  # noqa: S608 (model columns)
        flat = list(chain.from_iterable(chunk))
        # RETURNING's order is unspecified; AUTOINCREMENT hands out increasing ids in the
        # order the VALUES rows are inserted, so sorted ids are in row order.
        ids += sorted(r[0] for r in raw.execute(sql, flat).fetchall())
    return ids


def _postgres_copy(team_id, rows, source, ingest_key_id) -> list[int]:
    fields = _columns()
    batch = {
        "team_id": team_id,
        "source": source,
        "ingest_key_id": ingest_key_id,
        "created_at": timezone.now(),
    }
    values = _encoded(fields, rows, batch)
    qn = connection.ops.quote_name
    table = Log._meta.db_table
    # COPY goes through psycopg's cursor; wrap_database_errors makes its errors django.db's
    with connection.cursor() as cursor, connection.wrap_database_errors:
        # ids first, from the table's own sequence, so COPY (which returns nothing) can carry them
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            [table, len(values)],
        )
        ids = sorted(r[0] for r in cursor.fetchall())
        raw = cursor.cursor
        names = ", ".join(["id"] + [qn(f.column) for f in fields])
        with raw.copy(f"COPY {qn(table)} ({names}) FROM STDIN") as copy:
            for log_id, row in zip(ids, values, strict=True):
                copy.write_row((log_id, *row))
        tags, meta = _side_rows(team_id, ids, rows)
        if tags:
            with raw.copy(
                f"COPY {qn(LogTag._meta.db_table)} (log_id, team_id, name) FROM STDIN"
            ) as copy:
                for row in tags:
                    copy.write_row(row)
        if meta:
            with raw.copy(
                f'COPY {qn(LogMeta._meta.db_table)} (log_id, team_id, "key", value) FROM STDIN'
            ) as copy:
                for row in meta:
                    copy.write_row(row)
        with raw.copy(f"COPY {POSTGRES_TABLE} (log_id, document) FROM STDIN") as copy:
            for log_id, row in zip(ids, rows, strict=True):
                copy.write_row(
                    (log_id, postgres_document(index_terms(team_id, row.get("search_text") or "")))
                )
    return ids
