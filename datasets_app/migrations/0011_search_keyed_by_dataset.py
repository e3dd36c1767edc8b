# ruff: noqa: S608 - identifiers and SQL are constants of this module, no input reaches them
"""Full-text search keyed by dataset: every term in the index carries its example's dataset.

Before, one index held every team's words unqualified, so a search had to read all rows that
matched anywhere and drop other datasets' afterwards: a word present 60,000 times in another
team's data made a search in a 12-example dataset take a second, which told the searcher that
the word was there. Now each term is stored as ``d<dataset id>x<term>`` (see
``datasets_app.services.search.dataset_term_prefix``) and a query only names its own dataset's
terms, prefix queries included (the terms of a dataset are one contiguous range of the term
b-tree), so what a search reads depends only on the searched dataset.

SQLite: ``datasets_app_example_fts`` (rowid = example id) is rebuilt with the prefixed terms. The
triggers let FTS5 itself tokenize the flattened message texts into a one-row contentless stage
table, read its distinct terms through an ``fts5vocab`` table, store them prefixed, and empty the
stage again; so the tokenizer (unicode61, diacritics removed) is the one that also reads the
query. They cover every write path, as 0009's did, and a change of ``Example.dataset`` too.

PostgreSQL: a table ``datasets_app_example_search`` (example id, tsvector of prefixed lexemes)
with a GIN index, kept by triggers; it replaces 0009's expression index over every revision.

Both directions backfill, so the migration is reversible on a filled database.
"""

import importlib

from django.db import migrations

FTS = "datasets_app_example_fts"
STAGE = "datasets_app_example_terms_stage"
STAGE_TERMS = "datasets_app_example_terms_stage_vocab"
EXAMPLE = "datasets_app_example"
REVISION = "datasets_app_examplerevision"
SEARCH = "datasets_app_example_search"
TOKENIZE = "tokenize = 'unicode61 remove_diacritics 2'"
SQLITE_TRIGGERS = ("revision_insert", "example_insert", "example_update", "example_delete")


def flatten(column: str) -> str:
    """The message texts of a ``messages`` JSON column, one per line (as in 0009)."""
    return (
        f"(SELECT group_concat(json_extract(m.value, '$.content'), char(10)) "
        f"FROM json_each({column}) AS m)"
    )


def sqlite_index(example_id: str, dataset_id: str, revision_id: str) -> str:
    """Trigger statements that rewrite the index row of one example from one revision: none
    when that revision does not exist (yet: an import inserts examples before revisions)."""
    return f"""
        DELETE FROM {FTS} WHERE rowid = {example_id};
        INSERT INTO {STAGE}({STAGE}) VALUES ('delete-all');
        INSERT INTO {STAGE}(rowid, body)
            SELECT {example_id}, {flatten("r.messages")} FROM {REVISION} AS r
            WHERE r.id = {revision_id};
        INSERT INTO {FTS}(rowid, terms)
            SELECT {example_id}, coalesce(
                (SELECT group_concat('d' || {dataset_id} || 'x' || term, ' ') FROM {STAGE_TERMS}),
                '')
            FROM {REVISION} AS r WHERE r.id = {revision_id};
        INSERT INTO {STAGE}({STAGE}) VALUES ('delete-all');"""


SQLITE_UP = [f"DROP TRIGGER IF EXISTS {FTS}_{name}" for name in SQLITE_TRIGGERS] + [
    f"DROP TABLE IF EXISTS {FTS}",
    # detail=full although only single terms are queried: a word that this tokenizer splits in
    # two becomes a two-token phrase, which matches nothing here rather than raising.
    f"CREATE VIRTUAL TABLE {FTS} USING fts5(terms, {TOKENIZE})",
    f"CREATE VIRTUAL TABLE {STAGE} USING fts5(body, content = '', detail = none, {TOKENIZE})",
    f"CREATE VIRTUAL TABLE {STAGE_TERMS} USING fts5vocab({STAGE}, 'row')",
    f"""CREATE TRIGGER {FTS}_revision_insert AFTER INSERT ON {REVISION}
    WHEN (SELECT current_revision_id FROM {EXAMPLE} WHERE id = NEW.example_id) = NEW.id
    BEGIN{
        sqlite_index(
            "NEW.example_id",
            f"(SELECT dataset_id FROM {EXAMPLE} WHERE id = NEW.example_id)",
            "NEW.id",
        )
    }
    END""",
    f"""CREATE TRIGGER {FTS}_example_insert AFTER INSERT ON {EXAMPLE}
    WHEN EXISTS (SELECT 1 FROM {REVISION} WHERE id = NEW.current_revision_id)
    BEGIN{sqlite_index("NEW.id", "NEW.dataset_id", "NEW.current_revision_id")}
    END""",
    # A move to another dataset rewrites the terms under the new dataset's prefix.
    f"""CREATE TRIGGER {FTS}_example_update AFTER UPDATE OF current_revision_id, dataset_id
    ON {EXAMPLE}
    WHEN NEW.current_revision_id IS NOT OLD.current_revision_id
        OR NEW.dataset_id IS NOT OLD.dataset_id
    BEGIN{sqlite_index("NEW.id", "NEW.dataset_id", "NEW.current_revision_id")}
    END""",
    f"""CREATE TRIGGER {FTS}_example_delete AFTER DELETE ON {EXAMPLE}
    BEGIN
        DELETE FROM {FTS} WHERE rowid = OLD.id;
    END""",
]
# Backfill in one pass: every current revision into the stage, then each example's distinct
# terms through a per-document vocabulary (the triggers' one-row stage does not need that view).
SQLITE_BACKFILL = [
    f"""INSERT INTO {STAGE}(rowid, body)
        SELECT e.id, {flatten("r.messages")} FROM {EXAMPLE} AS e
        JOIN {REVISION} AS r ON r.id = e.current_revision_id""",
    f"CREATE VIRTUAL TABLE temp.{STAGE}_instances USING fts5vocab(main, {STAGE}, 'instance')",
    f"""INSERT INTO {FTS}(rowid, terms)
        SELECT v.doc, group_concat('d' || e.dataset_id || 'x' || v.term, ' ')
        FROM temp.{STAGE}_instances AS v JOIN {EXAMPLE} AS e ON e.id = v.doc
        GROUP BY v.doc""",
    f"DROP TABLE temp.{STAGE}_instances",
    f"INSERT INTO {STAGE}({STAGE}) VALUES ('delete-all')",
]
SQLITE_DOWN = [f"DROP TRIGGER IF EXISTS {FTS}_{name}" for name in SQLITE_TRIGGERS] + [
    f"DROP TABLE IF EXISTS {STAGE_TERMS}",
    f"DROP TABLE IF EXISTS {STAGE}",
    f"DROP TABLE IF EXISTS {FTS}",
]

# The document of one example: the 'simple' lexemes of its message texts (as 0009's expression),
# each prefixed with the example's dataset; positions are not kept (queries are & and :* only).
POSTGRES_UP = [
    f"""CREATE FUNCTION {SEARCH}_document(dataset_id bigint, messages jsonb) RETURNS tsvector
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
        SELECT coalesce(array_to_tsvector(array_agg('d' || dataset_id || 'x' || v.lexeme)),
                        ''::tsvector)
        FROM unnest(to_tsvector('simple'::regconfig,
                                jsonb_path_query_array(messages, '$[*].content'))) AS v
    $$""",
    f"""CREATE TABLE {SEARCH} (
        example_id bigint PRIMARY KEY,
        document tsvector NOT NULL
    )""",
    f"CREATE INDEX {SEARCH}_document ON {SEARCH} USING GIN (document)",
    f"""CREATE FUNCTION {SEARCH}_write(example bigint) RETURNS void LANGUAGE sql AS $$
        DELETE FROM {SEARCH} WHERE example_id = example;
        INSERT INTO {SEARCH} (example_id, document)
            SELECT e.id, {SEARCH}_document(e.dataset_id, r.messages)
            FROM {EXAMPLE} AS e JOIN {REVISION} AS r ON r.id = e.current_revision_id
            WHERE e.id = example;
    $$""",
    f"""CREATE FUNCTION {SEARCH}_sync() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_TABLE_NAME = '{REVISION}' THEN
            -- only a revision inserted as its example's current one (an import's rows)
            IF EXISTS (SELECT 1 FROM {EXAMPLE} WHERE id = NEW.example_id
                       AND current_revision_id = NEW.id) THEN
                PERFORM {SEARCH}_write(NEW.example_id);
            END IF;
        ELSIF TG_OP = 'DELETE' THEN
            DELETE FROM {SEARCH} WHERE example_id = OLD.id;
        ELSE
            PERFORM {SEARCH}_write(NEW.id);
        END IF;
        RETURN NULL;
    END
    $$""",
    f"""CREATE TRIGGER {SEARCH}_revision_insert AFTER INSERT ON {REVISION}
    FOR EACH ROW EXECUTE FUNCTION {SEARCH}_sync()""",
    f"""CREATE TRIGGER {SEARCH}_example_insert AFTER INSERT ON {EXAMPLE}
    FOR EACH ROW WHEN (NEW.current_revision_id IS NOT NULL) EXECUTE FUNCTION {SEARCH}_sync()""",
    f"""CREATE TRIGGER {SEARCH}_example_update AFTER UPDATE OF current_revision_id, dataset_id
    ON {EXAMPLE} FOR EACH ROW
    WHEN (NEW.current_revision_id IS DISTINCT FROM OLD.current_revision_id
          OR NEW.dataset_id IS DISTINCT FROM OLD.dataset_id)
    EXECUTE FUNCTION {SEARCH}_sync()""",
    f"""CREATE TRIGGER {SEARCH}_example_delete AFTER DELETE ON {EXAMPLE}
    FOR EACH ROW EXECUTE FUNCTION {SEARCH}_sync()""",
    f"""INSERT INTO {SEARCH} (example_id, document)
        SELECT e.id, {SEARCH}_document(e.dataset_id, r.messages)
        FROM {EXAMPLE} AS e JOIN {REVISION} AS r ON r.id = e.current_revision_id""",
    "DROP INDEX IF EXISTS examplerevision_fts",
]
POSTGRES_DOWN = [
    f"DROP TRIGGER IF EXISTS {SEARCH}_{name} ON {table}"
    for name, table in (
        ("revision_insert", REVISION),
        ("example_insert", EXAMPLE),
        ("example_update", EXAMPLE),
        ("example_delete", EXAMPLE),
    )
] + [
    f"DROP FUNCTION IF EXISTS {SEARCH}_sync()",
    f"DROP FUNCTION IF EXISTS {SEARCH}_write(bigint)",
    f"DROP TABLE IF EXISTS {SEARCH}",
    f"DROP FUNCTION IF EXISTS {SEARCH}_document(bigint, jsonb)",
]


def old_migration():
    return importlib.import_module("datasets_app.migrations.0009_example_search")


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        for sql in SQLITE_UP:
            schema_editor.execute(sql)
        for sql in SQLITE_BACKFILL:
            schema_editor.execute(sql)
    elif vendor == "postgresql":
        for sql in POSTGRES_UP:
            schema_editor.execute(sql)
    else:
        raise NotImplementedError(f"no full-text search for {vendor}")


def backwards(apps, schema_editor):
    # Back to 0009's index, refilled from the current revisions by 0009's own statements.
    vendor = schema_editor.connection.vendor
    old = old_migration()
    for sql in SQLITE_DOWN if vendor == "sqlite" else POSTGRES_DOWN:
        schema_editor.execute(sql)
    for sql in old.SQLITE_UP if vendor == "sqlite" else old.POSTGRES_UP:
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("datasets_app", "0010_example_updated_index")]
    operations = [migrations.RunPython(forwards, backwards)]
