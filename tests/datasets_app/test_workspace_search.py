"""Full-text search: the index follows every write path (create, edit, import rows, fixes,
restore, delete) because triggers keep it, and queries never reach the engine's syntax."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from datasets_app.services.search import fts5_match, postgres_tsquery, search_words


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
@given(st.text(max_size=40))
def test_it_never_passes_engine_syntax_through(text):
    words = search_words(text)
    match = fts5_match(words)
    for w in words:
        assert w.isalnum() or "_" in w
    assert match.count('"') % 2 == 0
    assert "|" not in postgres_tsquery(words) and "!" not in postgres_tsquery(words)
