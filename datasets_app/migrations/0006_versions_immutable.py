"""Frozen versions are immutable at the database level, not only in Python (DESIGN §2).

- a version entry can never be updated or deleted, and none can be added to a sealed version
  (one whose ``content_hash`` is set: the freeze writes the hash last, in its transaction);
- a sealed version's content columns cannot change; name, notes and creator stay editable;
- a version cannot be deleted.

On SQLite the DELETE guards ask ``finetunedb_versions_purge_allowed()``, a function the app
registers on each connection (models/versions.py); it says yes only inside
``versions_purge_allowed()`` in Python, so no SQL statement can turn the guard off, and a
connection without the function (the sqlite3 shell) fails too. PostgreSQL has no exception:
only TRUNCATE or dropping the triggers, which need DDL rights, get rid of a version.

SQLite rebuilds a table to alter it, which drops its triggers: a later migration that alters
these tables must create the triggers again (the immutability tests would fail otherwise).
"""

# ruff: noqa: S608 - the SQL is built from constants of this module only
from django.db import migrations

MESSAGE = "frozen dataset versions are immutable"
VERSION = "datasets_app_datasetversion"
ENTRY = "datasets_app_versionentry"
SEALED_COLUMNS = (
    "dataset_id",
    "number",
    "parent_id",
    "content_hash",
    "counts",
    "stats",
    "check_report",
    "forced",
    "force_reason",
    "created_at",
)

_SQLITE_CHANGED = " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in SEALED_COLUMNS)
SQLITE_UP = [
    f"""CREATE TRIGGER {VERSION}_sealed BEFORE UPDATE ON {VERSION}
    WHEN OLD.content_hash <> '' AND ({_SQLITE_CHANGED})
    BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END;""",
    f"""CREATE TRIGGER {VERSION}_no_delete BEFORE DELETE ON {VERSION}
    WHEN NOT finetunedb_versions_purge_allowed()
    BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END;""",
    f"""CREATE TRIGGER {ENTRY}_no_update BEFORE UPDATE ON {ENTRY}
    BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END;""",
    f"""CREATE TRIGGER {ENTRY}_no_delete BEFORE DELETE ON {ENTRY}
    WHEN NOT finetunedb_versions_purge_allowed()
    BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END;""",
    f"""CREATE TRIGGER {ENTRY}_sealed BEFORE INSERT ON {ENTRY}
    WHEN (SELECT content_hash FROM {VERSION} WHERE id = NEW.version_id) <> ''
    BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END;""",
]
SQLITE_DOWN = [
    f"DROP TRIGGER IF EXISTS {name};"
    for name in (
        f"{VERSION}_sealed",
        f"{VERSION}_no_delete",
        f"{ENTRY}_no_update",
        f"{ENTRY}_no_delete",
        f"{ENTRY}_sealed",
    )
]

_PG_CHANGED = " OR ".join(f"NEW.{c} IS DISTINCT FROM OLD.{c}" for c in SEALED_COLUMNS)
_PG_RAISE = f"RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'integrity_constraint_violation';"
POSTGRES_UP = [
    f"""CREATE OR REPLACE FUNCTION {VERSION}_guard() RETURNS trigger AS $$
    BEGIN
        IF TG_OP = 'DELETE' THEN {_PG_RAISE} END IF;
        IF OLD.content_hash <> '' AND ({_PG_CHANGED}) THEN {_PG_RAISE} END IF;
        RETURN NEW;
    END;
    $$ LANGUAGE plpgsql;""",
    f"""CREATE TRIGGER {VERSION}_guard BEFORE UPDATE OR DELETE ON {VERSION}
    FOR EACH ROW EXECUTE FUNCTION {VERSION}_guard();""",
    f"""CREATE OR REPLACE FUNCTION {ENTRY}_guard() RETURNS trigger AS $$
    BEGIN
        IF TG_OP <> 'INSERT' THEN {_PG_RAISE} END IF;
        IF EXISTS (SELECT 1 FROM {VERSION} WHERE id = NEW.version_id AND content_hash <> '')
        THEN {_PG_RAISE} END IF;
        RETURN NEW;
    END;
    $$ LANGUAGE plpgsql;""",
    f"""CREATE TRIGGER {ENTRY}_guard BEFORE INSERT OR UPDATE OR DELETE ON {ENTRY}
    FOR EACH ROW EXECUTE FUNCTION {ENTRY}_guard();""",
]
POSTGRES_DOWN = [
    f"DROP TRIGGER IF EXISTS {VERSION}_guard ON {VERSION};",
    f"DROP FUNCTION IF EXISTS {VERSION}_guard();",
    f"DROP TRIGGER IF EXISTS {ENTRY}_guard ON {ENTRY};",
    f"DROP FUNCTION IF EXISTS {ENTRY}_guard();",
]


def _statements(vendor: str, up: bool) -> list[str]:
    if vendor == "sqlite":
        return SQLITE_UP if up else SQLITE_DOWN
    if vendor == "postgresql":
        return POSTGRES_UP if up else POSTGRES_DOWN
    raise NotImplementedError(f"no immutability triggers for {vendor}")


def forwards(apps, schema_editor):
    for sql in _statements(schema_editor.connection.vendor, up=True):
        schema_editor.execute(sql)


def backwards(apps, schema_editor):
    for sql in _statements(schema_editor.connection.vendor, up=False):
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("datasets_app", "0005_versions")]
    operations = [migrations.RunPython(forwards, backwards)]
