"""Full-text search: the index follows every write path (create, edit, import rows, fixes,
restore, delete) because triggers keep it, and queries never reach the engine's syntax."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from datasets_app.services.search import dataset_term_prefix, fts5_match, search_words


def chat(text, answer="ok"):
    return [{"role": "user", "content": text}, {"role": "assistant", "content": answer}]


def found(dataset, text):
    from datasets_app.selectors import example_list

    return sorted(example_list(dataset, filters={"search": text}).values_list("pk", flat=True))


@pytest.mark.postgres
def test_it_finds_examples_by_words_in_any_turn(dataset, owner, make_example):
    a = make_example(dataset, owner, chat("Where is the Eiffel tower?", "In Paris."))
    b = make_example(dataset, owner, chat("Capital of France?", "paris, of course"))
    make_example(dataset, owner, chat("Something else"))
    assert found(dataset, "paris") == [a.pk, b.pk]
    assert found(dataset, "eiffel TOWER") == [a.pk]
    assert found(dataset, "eiff") == [a.pk]  # the last word is a prefix
    assert found(dataset, "tower france") == []


@pytest.mark.postgres
def test_it_follows_edits_and_restores(dataset, owner, make_example):
    from datasets_app.services.examples import example_update

    ex = make_example(dataset, owner, chat("alpha question"))
    example_update(
        user=owner, example=ex, expected_revision=ex.revision, changes={"messages": chat("beta")}
    )
    assert found(dataset, "alpha") == [] and found(dataset, "beta") == [ex.pk]
    ex.refresh_from_db()
    first = ex.revisions.get(number=1)
    example_update(
        user=owner,
        example=ex,
        expected_revision=ex.revision,
        changes={"messages": first.messages},
    )
    assert found(dataset, "alpha") == [ex.pk] and found(dataset, "beta") == []


@pytest.mark.postgres
def test_it_indexes_rows_inserted_by_an_import(dataset, owner):
    from django.db import transaction

    from datasets_app.canonical import content_hash
    from datasets_app.services.example_rows import examples_insert_new

    rows = [
        (
            {"messages": chat(f"imported row{i} kiwi")},
            "jsonl",
            content_hash(chat(f"imported row{i} kiwi"), None),
        )
        for i in range(3)
    ]
    with transaction.atomic():
        examples_insert_new(dataset_id=dataset.pk, user_id=owner.pk, rows=rows, count=3)
    assert len(found(dataset, "kiwi")) == 3
    assert len(found(dataset, "row1")) == 1


def test_it_indexes_bulk_fixes_and_forgets_deleted_examples(dataset, owner, make_example):
    from datasets_app.services.checks import example_fixes_apply
    from datasets_app.services.examples import example_delete

    ex = make_example(dataset, owner, chat("  padded   words  "))
    other = make_example(dataset, owner, chat("zebra crossing"))
    example_fixes_apply(user=owner, dataset=dataset, fix_ids=["trim_whitespace"], ids=[ex.pk])
    assert found(dataset, "padded words") == [ex.pk]
    example_delete(user=owner, example=other)
    assert found(dataset, "zebra") == []


def test_it_keeps_datasets_apart(dataset, other_dataset, owner, outsider, make_example):
    mine = make_example(dataset, owner, chat("shared word"))
    make_example(other_dataset, outsider, chat("shared word"))
    assert found(dataset, "shared") == [mine.pk]


def test_it_matches_nothing_for_a_query_without_words(dataset, owner, make_example):
    make_example(dataset, owner, chat("anything"))
    assert found(dataset, '"*()') == []


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=40), st.integers(min_value=1, max_value=10**12))
def test_it_never_passes_engine_syntax_through(text, dataset_id):
    words = search_words(text)
    match = fts5_match(words, dataset_id=dataset_id)
    prefix = dataset_term_prefix(dataset_id)
    for w in words:
        assert all(ch.isalnum() for ch in w)
    # every term is one quoted string of this dataset; only AND and the last prefix mark remain
    terms = match.split(" AND ") if words else []
    assert [t.rstrip("*") for t in terms] == [f'"{prefix}{w}"' for w in words]
    assert all(not t.endswith("*") for t in terms[:-1])


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.text(alphabet="ab1", min_size=1, max_size=4), min_size=1, max_size=3),
    st.lists(st.text(alphabet='ab"x* ()', min_size=1, max_size=8), min_size=1, max_size=4),
)
def test_it_writes_completions_as_one_or_group_of_quoted_terms(words, completions):
    match = fts5_match(words, dataset_id=7, completions=completions)
    head, _, group = match.rpartition(" AND ") if len(words) > 1 else ("", "", match)
    assert head == " AND ".join(f'"d7x{w}"' for w in words[:-1])
    quoted = ['"' + t.replace('"', '""') + '"' for t in completions]
    assert group == "(" + " OR ".join(quoted) + ")"


@pytest.mark.postgres
def test_it_follows_an_example_moved_to_another_dataset(
    dataset, other_dataset, owner, make_example
):
    from datasets_app.models import Example

    ex = make_example(dataset, owner, chat("travelling word"))
    Example.objects.filter(pk=ex.pk).update(dataset=other_dataset)
    assert found(dataset, "travelling") == []
    assert found(other_dataset, "travelling") == [ex.pk]


class _Editor:
    """What the migration's RunPython functions use of a schema editor (a real one refuses to
    open inside the test's transaction on SQLite)."""

    def __init__(self, connection):
        self.connection = connection

    def execute(self, sql):
        with self.connection.cursor() as cursor:
            cursor.execute(sql)


@pytest.mark.postgres
def test_it_backfills_the_index_both_ways_through_the_migration(
    dataset, other_dataset, owner, outsider, make_example
):
    import importlib

    from django.db import connection

    migration = importlib.import_module("datasets_app.migrations.0011_search_keyed_by_dataset")
    mine = make_example(dataset, owner, chat("backfilled lighthouse"))
    theirs = make_example(other_dataset, outsider, chat("backfilled lighthouse"))
    editor = _Editor(connection)
    if connection.vendor == "postgresql":  # as after a commit: no deferred checks pending
        editor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    migration.backwards(None, editor)
    with connection.cursor() as c:
        if connection.vendor == "postgresql":
            c.execute("SELECT count(*) FROM pg_indexes WHERE indexname = 'examplerevision_fts'")
            assert c.fetchone() == (1,)
        else:  # 0009's table, refilled with both examples' words
            c.execute(
                "SELECT rowid FROM datasets_app_example_fts "
                "WHERE datasets_app_example_fts MATCH 'lighthouse' ORDER BY rowid"
            )
            assert [r[0] for r in c.fetchall()] == [mine.pk, theirs.pk]
    migration.forwards(None, editor)
    assert found(dataset, "lighthouse") == [mine.pk]
    assert found(other_dataset, "lightho") == [theirs.pk]
    later = make_example(dataset, owner, chat("lighthouse keeper"))
    assert found(dataset, "lighthouse") == [mine.pk, later.pk]


# --- the last word's completions (SQLite: a prefix query materialises every match) ------------
VOCABULARY = ["item", "items", "itemize", "iter", "it", "x1", "x10", "x2", "zebra", "w0417"]


def _ids(match: str) -> list[int]:
    from django.db import connection

    with connection.cursor() as c:
        c.execute(
            "SELECT rowid FROM datasets_app_example_fts WHERE datasets_app_example_fts MATCH %s "
            "ORDER BY rowid",
            [match],
        )
        return [row[0] for row in c.fetchall()]


@pytest.fixture
def vocabulary_examples(dataset, other_dataset, owner, outsider, make_example):
    """Examples of two datasets, each holding a few words of VOCABULARY (shared prefixes)."""
    for i in range(24):
        words = [w for j, w in enumerate(VOCABULARY) if (i >> (j % 5)) & 1 or j == i % 10]
        make_example(dataset, owner, chat(" ".join(words) + f" n{i}"))
    make_example(other_dataset, outsider, chat("itemized iterate zebras"))


def test_it_finds_what_the_prefix_query_finds_through_the_completions(dataset, vocabulary_examples):
    from datasets_app.services.search import fts5_match_expanded, prefix_terms

    prefixes = {w[:n] for w in VOCABULARY + ["itemized", "q"] for n in range(1, len(w) + 1)}
    for last in sorted(prefixes):
        for words in ([last], ["it", last], ["zebra", last]):
            plain = fts5_match(words, dataset_id=dataset.pk)
            expanded = fts5_match_expanded(words, dataset_id=dataset.pk)
            assert _ids(expanded) == _ids(plain), (words, expanded)
    prefix = dataset_term_prefix(dataset.pk)
    # the other dataset's "itemized" is not a completion here; a word in no example has none
    assert prefix_terms(prefix + "item") == [prefix + w for w in ("item", "itemize", "items")]
    assert prefix_terms(prefix + "q") == []
    assert "*" not in fts5_match_expanded(["ite"], dataset_id=dataset.pk)


def test_it_keeps_the_prefix_query_for_many_completions_or_folded_letters(
    dataset, owner, make_example, vocabulary_examples, monkeypatch
):
    from datasets_app.services import search

    monkeypatch.setattr(search, "MAX_PREFIX_TERMS", 3)
    prefix = dataset_term_prefix(dataset.pk)
    assert search.prefix_terms(prefix + "item") == [
        prefix + w for w in ("item", "itemize", "items")
    ]
    assert search.prefix_terms(prefix + "it") is None  # it, item, itemize, items, iter
    assert search.fts5_match_expanded(["it"], dataset_id=dataset.pk) == f'"{prefix}it"*'
    assert len(found(dataset, "it")) == 24
    cafe = make_example(dataset, owner, chat("Un café crème"))
    assert search.prefix_terms(prefix + "café") is None  # stored folded: "cafe"
    assert found(dataset, "café") == found(dataset, "cafe") == [cafe.pk]
