"""Freezes racing with edits and with each other, on real threads and connections."""

import threading

import pytest
from django.db import connections

from datasets_app import canonical
from datasets_app.models import Dataset, DatasetVersion, Example, VersionEntry
from datasets_app.services.examples import example_create, example_update
from datasets_app.services.versions import dataset_version_freeze

from .conftest import chat

pytestmark = [pytest.mark.postgres, pytest.mark.usefixtures("versions_transactional_db")]

N = 40
# The check engine runs on commit here and flags a dataset this small; the gate has its own tests.
GATE_IS_NOT_THE_POINT = "concurrency test"


def _run(*targets):
    barrier = threading.Barrier(len(targets))
    errors = []

    def wrap(fn):
        try:
            barrier.wait(timeout=10)
            fn()
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=wrap, args=(t,)) for t in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors


def test_it_never_mixes_the_before_and_after_of_an_edit(team, owner):
    dataset = Dataset.objects.create(team=team, name="race")
    ids = [
        example_create(user=owner, dataset=dataset, messages=chat(f"q{i}"), split="train").pk
        for i in range(N)
    ]

    def edit_all():
        # Content and split change together in one edit: a snapshot must see both or neither.
        for pk in ids:
            ex = Example.objects.select_related("dataset", "current_revision").get(pk=pk)
            example_update(
                user=owner,
                example=ex,
                expected_revision=ex.revision,
                changes={"messages": chat(f"q{pk}", "edited"), "split": "test"},
            )

    def freeze_often():
        for _ in range(5):
            dataset_version_freeze(
                user=owner,
                dataset=Dataset.objects.get(pk=dataset.pk),
                force=True,
                reason=GATE_IS_NOT_THE_POINT,
            )

    _run(edit_all, freeze_often)
    versions = list(DatasetVersion.objects.filter(dataset=dataset).order_by("number"))
    assert [v.number for v in versions] == [1, 2, 3, 4, 5]
    for version in versions:
        entries = list(
            VersionEntry.objects.filter(version=version).values_list(
                "split", "revision__number", "revision__content_hash", "content_hash"
            )
        )
        assert len(entries) == N
        for split, number, revision_hash, entry_hash in entries:
            assert (split, number) in {("train", 1), ("test", 2)}
            assert revision_hash == entry_hash
        assert version.content_hash == canonical.version_hash((s, h) for s, _, _, h in entries)


def test_it_gives_two_concurrent_freezes_distinct_numbers(team, owner):
    dataset = Dataset.objects.create(team=team, name="twins")
    example_create(user=owner, dataset=dataset, messages=chat("q"))

    def freeze():
        dataset_version_freeze(
            user=owner,
            dataset=Dataset.objects.get(pk=dataset.pk),
            force=True,
            reason=GATE_IS_NOT_THE_POINT,
        )

    _run(freeze, freeze)
    versions = list(DatasetVersion.objects.filter(dataset=dataset).order_by("number"))
    assert [v.number for v in versions] == [1, 2]
    assert versions[1].parent_id == versions[0].pk
    assert versions[0].content_hash == versions[1].content_hash
