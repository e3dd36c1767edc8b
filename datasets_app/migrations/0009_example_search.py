# ruff: noqa: S608 - identifiers and SQL are constants of this module, no input reaches them
"""Full-text search over the message content of every example's current revision.

SQLite: an FTS5 table ``datasets_app_example_fts`` (rowid = example id) kept in step by triggers,
so every write path is covered, the set-based import INSERTs and bulk fixes included: a revision
inserted as its example's current one, a change of ``Example.current_revision`` and a deleted
example. The JSON content is flattened to its message texts, one per line.

PostgreSQL: a GIN index on the tsvector of the same texts, an expression over the immutable
revision row, so there is nothing to keep in step.
"""

from django.db import migrations

FTS = "datasets_app_example_fts"
EXAMPLE = "datasets_app_example"
REVISION = "datasets_app_examplerevision"


def flatten(column: str) -> str:
    return (
        f"(SELECT group_concat(json_extract(m.value, '$.content'), char(10)) "
        f"FROM json_each({column}) AS m)"
    )


SQLITE_UP = [
    f"CREATE VIRTUAL TABLE {FTS} USING fts5(body, tokenize = 'unicode61 remove_diacritics 2')",
    f"""CREATE TRIGGER {FTS}_revision_insert AFTER INSERT ON {REVISION}
    WHEN (SELECT current_revision_id FROM {EXAMPLE} WHERE id = NEW.example_id) = NEW.id
    BEGIN
        DELETE FROM {FTS} WHERE rowid = NEW.example_id;
        INSERT INTO {FTS}(rowid, body) VALUES (NEW.example_id, {flatten("NEW.messages")});
    END""",
    f"""CREATE TRIGGER {FTS}_example_insert AFTER INSERT ON {EXAMPLE}
    WHEN NEW.current_revision_id IS NOT NULL
    BEGIN
        DELETE FROM {FTS} WHERE rowid = NEW.id;
        INSERT INTO {FTS}(rowid, body)
            SELECT NEW.id, {flatten("r.messages")} FROM {REVISION} AS r
            WHERE r.id = NEW.current_revision_id;
    END""",
    f"""CREATE TRIGGER {FTS}_example_update AFTER UPDATE OF current_revision_id ON {EXAMPLE}
    WHEN NEW.current_revision_id IS NOT OLD.current_revision_id
    BEGIN
        DELETE FROM {FTS} WHERE rowid = NEW.id;
        INSERT INTO {FTS}(rowid, body)
            SELECT NEW.id, {flatten("r.messages")} FROM {REVISION} AS r
            WHERE r.id = NEW.current_revision_id;
    END""",
    f"""CREATE TRIGGER {FTS}_example_delete AFTER DELETE ON {EXAMPLE}
    BEGIN
        DELETE FROM {FTS} WHERE rowid = OLD.id;
    END""",
    f"""INSERT INTO {FTS}(rowid, body)
        SELECT e.id, {flatten("r.messages")} FROM {EXAMPLE} AS e
        JOIN {REVISION} AS r ON r.id = e.current_revision_id""",
]
SQLITE_DOWN = [
    f"DROP TRIGGER IF EXISTS {FTS}_{name}"
    for name in ("revision_insert", "example_insert", "example_update", "example_delete")
] + [f"DROP TABLE IF EXISTS {FTS}"]

# Kept identical to datasets_app.services.search.POSTGRES_DOCUMENT so the planner uses the index.
POSTGRES_DOCUMENT = (
    "to_tsvector('simple'::regconfig, jsonb_path_query_array(messages, '$[*].content'))"
)
POSTGRES_UP = [
    f"CREATE INDEX IF NOT EXISTS examplerevision_fts ON {REVISION} USING GIN ({POSTGRES_DOCUMENT})"
]
POSTGRES_DOWN = ["DROP INDEX IF EXISTS examplerevision_fts"]


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    statements = {"sqlite": SQLITE_UP, "postgresql": POSTGRES_UP}.get(vendor)
    if statements is None:
        raise NotImplementedError(f"no full-text search for {vendor}")
    for sql in statements:
        schema_editor.execute(sql)


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for sql in SQLITE_DOWN if vendor == "sqlite" else POSTGRES_DOWN:
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("datasets_app", "0008_dedup")]
    operations = [migrations.RunPython(forwards, backwards)]
