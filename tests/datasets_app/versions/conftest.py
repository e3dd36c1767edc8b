"""Helpers for the version tests.

Frozen versions cannot be deleted, not even by the test database's flush between transactional
tests on SQLite (which runs DELETE); ``versions_transactional_db`` purges them first through the
one door the triggers leave open in Python. PostgreSQL's flush uses TRUNCATE, which row triggers
do not see.
"""

import pytest


def chat(question: str, answer: str = "ok", system: str | None = None) -> list[dict]:
    messages = [{"role": "system", "content": system}] if system else []
    return messages + [
        {"role": "user", "content": question},
        {"role": "assistant", "content": answer},
    ]


def purge_versions() -> None:
    from django.db import connection

    from datasets_app.models import (
        DatasetVersion,
        RestoreChange,
        VersionEntry,
        VersionRestore,
        versions_purge_allowed,
    )

    if connection.vendor != "sqlite":
        return
    with versions_purge_allowed(), connection.cursor() as cursor:
        for model in (RestoreChange, VersionRestore, VersionEntry, DatasetVersion):
            cursor.execute(f"DELETE FROM {model._meta.db_table}")  # noqa: S608


@pytest.fixture
def versions_transactional_db(transactional_db):
    yield
    purge_versions()


@pytest.fixture
def curator(make_user, team):
    from finetunedb.teams.models import Membership

    user = make_user("dana")
    Membership.objects.create(team=team, user=user, role="curator")
    return user


@pytest.fixture
def freeze(owner):
    from datasets_app.services.versions import dataset_version_freeze

    def run(dataset, user=None, **kwargs):
        return dataset_version_freeze(user=user or owner, dataset=dataset, **kwargs)

    return run


@pytest.fixture
def edit(owner):
    """Change an example's content (and/or annotations) through the edit service."""
    from datasets_app.models import Example
    from datasets_app.services.examples import example_update

    def run(example, user=None, **changes):
        example = Example.objects.select_related("dataset", "current_revision").get(pk=example.pk)
        return example_update(
            user=user or owner, example=example, expected_revision=example.revision, changes=changes
        )

    return run
