"""A frozen version cannot change, by any route: these go around Python with raw SQL."""

import pytest
from django.db import IntegrityError, InternalError, connection, transaction
from django.db.models import ProtectedError

from datasets_app.models import DatasetVersion, VersionEntry

pytestmark = pytest.mark.postgres

REFUSED = (IntegrityError, InternalError)


def _raw(sql, params=()):
    with pytest.raises(REFUSED) as info:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, params)
    assert "immutable" in str(info.value)


@pytest.fixture
def version(dataset, example, freeze):
    return freeze(dataset, name="v1", notes="n")


@pytest.mark.parametrize(
    "assignment, value",
    [
        ("content_hash = %s", "0" * 64),
        ("split = %s", "test"),
        ("revision_id = %s", 999),
        ("status = %s", "approved"),
    ],
)
def test_it_refuses_raw_updates_of_an_entry(version, assignment, value):
    before = list(
        VersionEntry.objects.values_list("revision_id", "split", "content_hash", "status")
    )
    _raw(f"UPDATE datasets_app_versionentry SET {assignment}", [value])
    after = list(VersionEntry.objects.values_list("revision_id", "split", "content_hash", "status"))
    assert after == before


def test_it_refuses_raw_deletes_of_entries(version):
    _raw("DELETE FROM datasets_app_versionentry")
    assert VersionEntry.objects.filter(version=version).count() == 1


def test_it_refuses_new_entries_in_a_sealed_version(version, dataset, owner, make_example):
    other = make_example(dataset, owner, [{"role": "user", "content": "x"}])
    _raw(
        "INSERT INTO datasets_app_versionentry "
        "(version_id, example_id, revision_id, split, status, content_hash) "
        "VALUES (%s, %s, %s, 'train', 'draft', %s)",
        [version.pk, other.pk, other.current_revision_id, other.content_hash],
    )
    assert version.entries.count() == 1


@pytest.mark.parametrize(
    "assignment, value",
    [
        ("content_hash = %s", "0" * 64),
        ("content_hash = %s", ""),
        ("number = %s", 7),
        ("counts = %s", '{"train": 99}'),
        ("stats = %s", "{}"),
        ("forced = %s", True),
    ],
)
def test_it_refuses_raw_updates_of_a_versions_content(version, assignment, value):
    before = DatasetVersion.objects.values().get(pk=version.pk)
    _raw(f"UPDATE datasets_app_datasetversion SET {assignment}", [value])
    assert DatasetVersion.objects.values().get(pk=version.pk) == before


def test_it_refuses_raw_deletes_of_a_version(version):
    _raw("DELETE FROM datasets_app_datasetversion")
    assert DatasetVersion.objects.filter(pk=version.pk).exists()


def test_it_lets_raw_sql_rename_a_version(version):
    with connection.cursor() as cursor:
        cursor.execute("UPDATE datasets_app_datasetversion SET name = 'renamed', notes = 'x'")
    version.refresh_from_db()
    assert (version.name, version.notes) == ("renamed", "x")


def test_it_keeps_the_version_when_its_creator_is_deleted(version, owner):
    hash_before = version.content_hash
    owner.delete()
    version.refresh_from_db()
    assert version.created_by is None and version.content_hash == hash_before


def test_it_refuses_to_delete_a_dataset_with_versions(version, dataset):
    with pytest.raises(ProtectedError):
        dataset.delete()
    assert DatasetVersion.objects.filter(pk=version.pk).exists()


def test_it_answers_409_to_deleting_an_example_that_is_in_a_version(
    version, example, api_for, owner
):
    response = api_for(owner).delete(f"/api/v1/examples/{example.pk}/")
    assert response.status_code == 409
    assert "frozen version" in response.json()["detail"]
