"""Example revisions are immutable at the database level, not only in Python.

An UPDATE of a revision's content (even raw SQL) fails on SQLite and PostgreSQL. The author
column stays updatable so that deleting a user can null it.
"""

from django.db import migrations

COLUMNS = "example_id, number, messages, tools, metadata, content_hash, created_at"
MESSAGE = "example revisions are immutable"

SQLITE_UP = f"""
CREATE TRIGGER datasets_app_examplerevision_immutable
BEFORE UPDATE OF {COLUMNS} ON datasets_app_examplerevision
BEGIN
    SELECT RAISE(ABORT, '{MESSAGE}');
END;
"""
SQLITE_DOWN = "DROP TRIGGER IF EXISTS datasets_app_examplerevision_immutable;"

POSTGRES_UP = f"""
CREATE OR REPLACE FUNCTION datasets_app_examplerevision_immutable() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER datasets_app_examplerevision_immutable
BEFORE UPDATE OF {COLUMNS} ON datasets_app_examplerevision
FOR EACH ROW EXECUTE FUNCTION datasets_app_examplerevision_immutable();
"""
POSTGRES_DOWN = """
DROP TRIGGER IF EXISTS datasets_app_examplerevision_immutable ON datasets_app_examplerevision;
DROP FUNCTION IF EXISTS datasets_app_examplerevision_immutable();
"""


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        schema_editor.execute(SQLITE_UP)
    elif vendor == "postgresql":
        schema_editor.execute(POSTGRES_UP)
    else:
        raise NotImplementedError(f"no immutability trigger for {vendor}")


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    schema_editor.execute(SQLITE_DOWN if vendor == "sqlite" else POSTGRES_DOWN)


class Migration(migrations.Migration):
    dependencies = [("datasets_app", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
