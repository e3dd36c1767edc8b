"""pgvector's tables where the database is PostgreSQL with the extension available; nothing on
SQLite or without it. No model state changes: the tables are managed by
semantic/services/pgvector_store.py, which also creates them when the extension is installed
after this migration ran."""

from django.db import migrations


def forwards(apps, schema_editor):
    from semantic.services.pgvector_store import extension_create, schema_create

    connection = schema_editor.connection
    if connection.vendor != "postgresql" or not extension_create(connection):
        return
    with connection.cursor() as cursor:
        schema_create(
            cursor,
            example_table=apps.get_model("datasets_app", "Example")._meta.db_table,
            dataset_table=apps.get_model("datasets_app", "Dataset")._meta.db_table,
        )


class Migration(migrations.Migration):
    dependencies = [("semantic", "0002_coverage_target")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop, elidable=False)]
