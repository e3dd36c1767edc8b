"""On SQLite, an ``fts5vocab`` table over the search index, through which a search expands its
last word into the dataset's terms that start with it (datasets_app/services/search.py: a
prefix query materialises every match before its LIMIT; an OR of terms does not).

No (dataset, split, status) index: it would cover the exact count of a split filter (613 ->
164 ms at 800,000 rows), but SQLite also takes it for ``dataset_id = ?`` alone when it has no
statistics for it (the app runs no ANALYZE), which turned the list's first page from a walk in
id order into a sort of the whole dataset (2.9 s at 1M rows, bench/pages.py). The count arrives
after the page and is within its target without it."""

from django.db import migrations

FTS = "datasets_app_example_fts"
TERMS = "datasets_app_example_fts_instances"


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(
            f"CREATE VIRTUAL TABLE IF NOT EXISTS {TERMS} USING fts5vocab({FTS}, 'instance')"
        )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(f"DROP TABLE IF EXISTS {TERMS}")


class Migration(migrations.Migration):
    dependencies = [
        ("datasets_app", "0013_example_source_log"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
