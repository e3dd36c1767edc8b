import threading

import pytest
from django.db import IntegrityError, InternalError, connection, connections, transaction

from datasets_app.models import Example, ExampleRevision
from datasets_app.services.examples import example_update
from finetunedb.exceptions import PreconditionFailed

pytestmark = pytest.mark.postgres


def test_it_refuses_raw_sql_updates_of_a_revision(example):
    revision = example.current_revision
    with pytest.raises((IntegrityError, InternalError)) as info:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "UPDATE datasets_app_examplerevision SET content_hash = %s WHERE id = %s",
                ["0" * 64, revision.pk],
            )
    assert "immutable" in str(info.value)
    revision.refresh_from_db()
    assert revision.content_hash == example.content_hash


def test_it_refuses_raw_sql_updates_of_messages(example):
    with pytest.raises((IntegrityError, InternalError)):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("UPDATE datasets_app_examplerevision SET messages = '[]'")
    assert ExampleRevision.objects.get().messages == example.current_revision.messages


def test_it_still_lets_a_user_deletion_null_the_author(example, owner):
    owner.delete()
    assert ExampleRevision.objects.get().author is None


@pytest.mark.django_db(transaction=True)
def test_it_lets_exactly_one_of_two_concurrent_writers_win(
    team, owner, teammate, dataset, make_example
):
    example = make_example(dataset, owner)
    barrier = threading.Barrier(2)
    outcomes = {}

    def write(name, user):
        try:
            barrier.wait(timeout=10)
            ex = Example.objects.select_related("dataset", "current_revision").get(pk=example.pk)
            example_update(
                user=user,
                example=ex,
                expected_revision=1,
                changes={
                    "messages": [
                        {"role": "user", "content": name},
                        {"role": "assistant", "content": name},
                    ]
                },
            )
            outcomes[name] = "ok"
        except PreconditionFailed:
            outcomes[name] = "stale"
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=write, args=(n, u)) for n, u in (("one", owner), ("two", teammate))
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(outcomes.values()) == ["ok", "stale"]
    example.refresh_from_db()
    winner = next(n for n, o in outcomes.items() if o == "ok")
    assert example.revision == 2
    assert example.current_revision.messages[0]["content"] == winner
    assert ExampleRevision.objects.filter(example=example).count() == 2
