# ruff: noqa: S608 - identifiers and SQL are constants of this module, no input reaches them
"""A full-text index of the logs' words, keyed by team (``capture.search``), for ``?search=``.

SQLite: the FTS5 table ``capture_log_fts`` (rowid = log id; terms ``t<team>x<word>``, written by
the ingest; ``detail = none``: only whole terms and prefixes are queried), an ``fts5vocab``
table over it through which a search expands its last word into the team's terms, and a trigger
that drops a deleted log's row. PostgreSQL: ``capture_log_search`` (log id, tsvector of the same
terms) with a GIN index, its rows deleted (and truncated) with their log by triggers. Both backfill from ``search_text``.
"""

from django.db import migrations

FTS = "capture_log_fts"
TERMS = "capture_log_fts_instances"
SEARCH = "capture_log_search"
LOG = "capture_log"
CHUNK = 5000

SQLITE_UP = [
    f"CREATE VIRTUAL TABLE {FTS} USING fts5(terms, detail = none, tokenize = 'ascii')",
    f"CREATE VIRTUAL TABLE {TERMS} USING fts5vocab({FTS}, 'instance')",
    f"""CREATE TRIGGER {FTS}_log_delete AFTER DELETE ON {LOG}
    BEGIN
        DELETE FROM {FTS} WHERE rowid = OLD.id;
    END""",
]
SQLITE_DOWN = [
    f"DROP TRIGGER IF EXISTS {FTS}_log_delete",
    f"DROP TABLE IF EXISTS {TERMS}",
    f"DROP TABLE IF EXISTS {FTS}",
]
# No foreign key to capture_log: the test suite's flush truncates the app's tables, and
# PostgreSQL refuses to truncate a table another references. Triggers keep the rows instead.
POSTGRES_UP = [
    f"""CREATE TABLE {SEARCH} (
        log_id bigint PRIMARY KEY,
        document tsvector NOT NULL
    )""",
    f"CREATE INDEX {SEARCH}_document ON {SEARCH} USING GIN (document)",
    f"""CREATE FUNCTION {SEARCH}_forget() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'TRUNCATE' THEN
            TRUNCATE {SEARCH};
        ELSE
            DELETE FROM {SEARCH} WHERE log_id = OLD.id;
        END IF;
        RETURN NULL;
    END
    $$""",
    f"""CREATE TRIGGER {SEARCH}_log_delete AFTER DELETE ON {LOG}
    FOR EACH ROW EXECUTE FUNCTION {SEARCH}_forget()""",
    f"""CREATE TRIGGER {SEARCH}_log_truncate AFTER TRUNCATE ON {LOG}
    FOR EACH STATEMENT EXECUTE FUNCTION {SEARCH}_forget()""",
]
POSTGRES_DOWN = [
    f"DROP TRIGGER IF EXISTS {SEARCH}_log_delete ON {LOG}",
    f"DROP TRIGGER IF EXISTS {SEARCH}_log_truncate ON {LOG}",
    f"DROP FUNCTION IF EXISTS {SEARCH}_forget()",
    f"DROP TABLE IF EXISTS {SEARCH}",
]


def backfill(schema_editor):
    from capture.search import index_terms, postgres_document

    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        insert = f"INSERT INTO {FTS} (rowid, terms) VALUES (%s, %s)"
    else:
        insert = f"INSERT INTO {SEARCH} (log_id, document) VALUES (%s, %s::tsvector)"
    last = 0
    with schema_editor.connection.cursor() as cursor:
        while True:
            cursor.execute(
                f"SELECT id, team_id, search_text FROM {LOG} WHERE id > %s ORDER BY id LIMIT %s",
                [last, CHUNK],
            )
            rows = cursor.fetchall()
            if not rows:
                return
            values = []
            for log_id, team_id, text in rows:
                terms = index_terms(team_id, text or "")
                values.append(
                    (log_id, " ".join(terms) if vendor == "sqlite" else postgres_document(terms))
                )
            cursor.executemany(insert, values)
            last = rows[-1][0]


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    statements = {"sqlite": SQLITE_UP, "postgresql": POSTGRES_UP}.get(vendor)
    if statements is None:
        return  # other backends keep the scan of search_text (capture.search_index)
    for sql in statements:
        schema_editor.execute(sql)
    backfill(schema_editor)


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for sql in {"sqlite": SQLITE_DOWN, "postgresql": POSTGRES_DOWN}.get(vendor, []):
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("capture", "0007_log_feedback_partial_indexes")]
    operations = [migrations.RunPython(forwards, backwards)]
