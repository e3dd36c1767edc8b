"""Checklist item 38: a per-team cap on concurrent imports and a per-team storage quota.

The (N+1)th import while N are queued or running answers 409; an upload that would pass the
team's storage quota answers 413; a training launch by a team with no byte left answers 409.
Each refusal stores nothing: no job row, no file under uploads/. Other teams are not affected.
"""

import io
import os

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from datasets_app.models import ImportJob, ImportStatus
from datasets_app.services import imports as import_services
from datasets_app.services.imports import create as import_create
from finetunedb.teams.quota import team_storage_usage
from training.models import TrainingRun

pytestmark = pytest.mark.django_db

LINE = (
    b'{"messages": [{"role": "user", "content": "q%d"}, {"role": "assistant", "content": "a"}]}\n'
)
BAD = b'{"messages": "not a list"}\n'


def jsonl(rows: int = 1, start: int = 0) -> bytes:
    return b"".join(LINE % i for i in range(start, start + rows))


def named(data: bytes, name: str = "data.jsonl") -> io.BytesIO:
    handle = io.BytesIO(data)
    handle.name = name
    return handle


@pytest.fixture
def data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path / "data"
    settings.FINETUNEDB_MODELS_DIR = tmp_path / "models"
    settings.FINETUNEDB_MAX_ACTIVE_IMPORTS_PER_TEAM = 2
    settings.FINETUNEDB_TEAM_STORAGE_QUOTA_BYTES = 0
    return tmp_path


def stored_uploads(data_dir) -> list[str]:
    folder = data_dir / "data" / "uploads"
    return sorted(os.listdir(folder)) if folder.exists() else []


def post_import(client, dataset, data: bytes, **fields):
    return client.post(
        f"/api/v1/datasets/{dataset.pk}/imports/",
        {"file": named(data), **fields},
        format="multipart",
    )


@pytest.fixture
def alice(api_for, owner):
    return api_for(owner)


def test_it_refuses_the_next_concurrent_import_with_409_and_stores_nothing(
    data_dir, alice, dataset
):
    # Jobs stay queued: their on-commit enqueue never runs inside the test transaction.
    assert post_import(alice, dataset, jsonl(1)).status_code == 202
    assert post_import(alice, dataset, jsonl(1, 1)).status_code == 202
    before = stored_uploads(data_dir)

    response = post_import(alice, dataset, jsonl(1, 2))

    assert response.status_code == 409, response.content
    body = response.json()
    assert body["code"] == "too_many_active_imports"
    assert body["active"] == 2 and body["limit"] == 2
    assert "2 import(s) queued or running" in body["detail"]
    assert ImportJob.objects.count() == 2
    assert stored_uploads(data_dir) == before and len(before) == 2


def test_it_refuses_before_reading_the_body(data_dir, alice, dataset, settings):
    settings.FINETUNEDB_MAX_ACTIVE_IMPORTS_PER_TEAM = 0
    # No file field at all: a view that read the body would answer 400 "file required".
    response = alice.post(
        f"/api/v1/datasets/{dataset.pk}/imports/", {"mode": "strict"}, format="multipart"
    )
    assert response.status_code == 409
    assert response.json()["code"] == "too_many_active_imports"


def test_it_frees_the_slot_when_an_import_finishes(data_dir, alice, dataset, settings):
    settings.FINETUNEDB_MAX_ACTIVE_IMPORTS_PER_TEAM = 1
    first = post_import(alice, dataset, jsonl(3)).json()["id"]
    assert post_import(alice, dataset, jsonl(1, 10)).status_code == 409

    import_services.import_job_run(job_id=first)
    assert ImportJob.objects.get(pk=first).status == ImportStatus.SUCCEEDED

    second = post_import(alice, dataset, BAD)
    assert second.status_code == 202
    import_services.import_job_run(job_id=second.json()["id"])
    assert ImportJob.objects.get(pk=second.json()["id"]).status == ImportStatus.FAILED
    assert post_import(alice, dataset, jsonl(1, 20)).status_code == 202


def test_it_removes_the_stored_file_when_a_concurrent_upload_took_the_last_slot(
    data_dir, owner, dataset, settings, monkeypatch
):
    settings.FINETUNEDB_MAX_ACTIVE_IMPORTS_PER_TEAM = 1
    save = import_create._save_upload

    def save_while_another_upload_lands(upload, target):
        save(upload, target)
        # What a second request does between this one's first check and its transaction.
        ImportJob.objects.create(dataset=dataset, stored_name="concurrent", size_bytes=1)

    monkeypatch.setattr(import_create, "_save_upload", save_while_another_upload_lands)
    with pytest.raises(import_create.ApplicationError) as refused:
        import_services.import_job_create(
            user=owner, dataset=dataset, upload=SimpleUploadedFile("data.jsonl", jsonl(1))
        )

    assert refused.value.status_code == 409
    assert list(ImportJob.objects.values_list("stored_name", flat=True)) == ["concurrent"]
    assert stored_uploads(data_dir) == []


def test_it_refuses_an_upload_over_the_quota_with_413_and_stores_nothing(
    data_dir, alice, dataset, settings
):
    data = jsonl(2)
    used = team_storage_usage(team_id=dataset.team_id).total
    settings.FINETUNEDB_TEAM_STORAGE_QUOTA_BYTES = used + len(data) - 1

    response = post_import(alice, dataset, data)

    assert response.status_code == 413, response.content
    body = response.json()
    assert body["code"] == "team_storage_quota"
    assert body["used_bytes"] == used
    assert body["quota_bytes"] == used + len(data) - 1
    assert body["incoming_bytes"] == len(data)
    assert "quota" in body["detail"] and "FINETUNEDB_TEAM_STORAGE_QUOTA_BYTES" in body["detail"]
    assert ImportJob.objects.count() == 0
    assert stored_uploads(data_dir) == []


def test_it_accepts_an_upload_that_lands_exactly_on_the_quota(data_dir, alice, dataset, settings):
    data = jsonl(2)
    used = team_storage_usage(team_id=dataset.team_id).total
    settings.FINETUNEDB_TEAM_STORAGE_QUOTA_BYTES = used + len(data)
    assert post_import(alice, dataset, data).status_code == 202
    assert team_storage_usage(team_id=dataset.team_id).full

    response = post_import(alice, dataset, jsonl(1, 50))
    assert response.status_code == 413 and response.json()["code"] == "team_storage_quota"
    assert ImportJob.objects.count() == 1 and len(stored_uploads(data_dir)) == 1


def test_it_shows_the_refusal_on_the_upload_page(data_dir, client, owner, dataset, settings):
    settings.FINETUNEDB_TEAM_STORAGE_QUOTA_BYTES = 1
    client.force_login(owner)
    response = client.post(f"/datasets/{dataset.pk}/import/", {"file": named(jsonl(2))})
    assert response.status_code == 413
    assert "storage quota" in response.content.decode()
    assert ImportJob.objects.count() == 0 and stored_uploads(data_dir) == []

    settings.FINETUNEDB_TEAM_STORAGE_QUOTA_BYTES = 0
    settings.FINETUNEDB_MAX_ACTIVE_IMPORTS_PER_TEAM = 0
    response = client.post(f"/datasets/{dataset.pk}/import/", {"file": named(jsonl(2))})
    assert response.status_code == 409
    assert "0 import(s) queued or running" in response.content.decode()


def test_it_counts_uploads_reports_models_and_content(data_dir, alice, dataset, owner):
    good = post_import(alice, dataset, jsonl(3)).json()["id"]
    mixed = post_import(alice, dataset, jsonl(2, 10) + BAD, mode="skip_invalid").json()["id"]
    import_services.import_job_run(job_id=good)
    import_services.import_job_run(job_id=mixed)
    report = import_services.import_job_error_report_path(ImportJob.objects.get(pk=mixed))
    run = TrainingRun.objects.create(
        version=_frozen_version(owner, dataset), dataset_version_hash="x", base_model="m", config={}
    )
    folder = data_dir / "models" / "runs" / str(run.pk) / "model"
    folder.mkdir(parents=True)
    (folder / "adapter.safetensors").write_bytes(b"w" * 1000)
    (folder / "README.md").write_bytes(b"card")
    (folder / "base").symlink_to(data_dir)  # a link to shared files is not the team's

    usage = team_storage_usage(team_id=dataset.team_id)

    assert usage.uploads == len(jsonl(3)) + len(jsonl(2, 10) + BAD)
    assert usage.reports == report.stat().st_size > 0
    assert usage.models == 1004
    assert usage.content == _revision_bytes(dataset.team_id) > 0
    assert usage.total == usage.uploads + usage.reports + usage.models + usage.content


def test_it_refuses_a_training_launch_when_the_team_has_no_room(
    data_dir, alice, owner, dataset, settings, monkeypatch
):
    from training.services import runs

    monkeypatch.setattr(runs, "training_run_enqueue", lambda run_id: None)
    version = _frozen_version(owner, dataset)
    settings.FINETUNEDB_TEAM_STORAGE_QUOTA_BYTES = team_storage_usage(team_id=dataset.team_id).total
    url = f"/api/v1/versions/{version.pk}/training-runs/"

    response = alice.post(url, {}, format="json")

    assert response.status_code == 409, response.content
    assert response.json()["code"] == "team_storage_quota"
    assert TrainingRun.objects.count() == 0
    settings.FINETUNEDB_TEAM_STORAGE_QUOTA_BYTES += 1
    assert alice.post(url, {}, format="json").status_code == 201


def test_it_leaves_other_teams_unaffected(
    data_dir, alice, api_for, outsider, dataset, other_dataset, settings
):
    settings.FINETUNEDB_MAX_ACTIVE_IMPORTS_PER_TEAM = 1
    assert post_import(alice, dataset, jsonl(40)).status_code == 202
    assert post_import(alice, dataset, jsonl(1, 99)).status_code == 409
    theirs = team_storage_usage(team_id=other_dataset.team_id)
    assert theirs.uploads == 0 and theirs.content == 0

    settings.FINETUNEDB_TEAM_STORAGE_QUOTA_BYTES = len(jsonl(2))
    assert post_import(alice, dataset, jsonl(1, 99)).status_code in (409, 413)
    assert post_import(api_for(outsider), other_dataset, jsonl(2)).status_code == 202


def test_it_reports_usage_in_the_team_api_and_on_the_members_page(
    data_dir, alice, client, owner, dataset, settings
):
    settings.FINETUNEDB_TEAM_STORAGE_QUOTA_BYTES = 10 * 1024**2
    post_import(alice, dataset, jsonl(5))
    team = alice.get("/api/v1/teams/").json()
    teams = team["results"] if isinstance(team, dict) else team
    storage = next(t for t in teams if t["id"] == dataset.team_id)["storage"]
    usage = team_storage_usage(team_id=dataset.team_id)
    assert storage["used_bytes"] == usage.total > 0
    assert storage["quota_bytes"] == 10 * 1024**2
    assert storage["remaining_bytes"] == 10 * 1024**2 - usage.total
    assert storage["parts"]["uploads"] == len(jsonl(5))

    client.force_login(owner)
    page = client.get(f"/teams/{dataset.team_id}/members/").content.decode()
    assert "of 10.0 MiB used" in page
    page = client.get(f"/datasets/{dataset.pk}/import/").content.decode()
    assert "of 10.0 MiB used" in page and "imports queued or running: 1 of 2" in page


def _frozen_version(owner, dataset):
    from datasets_app.services.examples import example_create
    from datasets_app.services.versions import dataset_version_freeze

    for i in range(3):
        example_create(
            user=owner,
            dataset=dataset,
            messages=[
                {"role": "user", "content": f"question {i}"},
                {"role": "assistant", "content": f"answer {i}"},
            ],
            split="train",
        )
    return dataset_version_freeze(user=owner, dataset=dataset, name="v1")


def _revision_bytes(team_id: int) -> int:
    """The stored JSON text of the team's revisions, read back and measured in Python."""
    from django.db import connection

    from datasets_app.models import ExampleRevision

    ids = list(
        ExampleRevision.objects.filter(example__dataset__team_id=team_id).values_list(
            "pk", flat=True
        )
    )
    table = ExampleRevision._meta.db_table
    with connection.cursor() as cursor:
        placeholders = ", ".join(["%s"] * len(ids))
        cursor.execute(
            f"SELECT messages, tools, metadata FROM {table} WHERE id IN ({placeholders})",  # noqa: S608
            ids,
        )
        rows = cursor.fetchall()
    return sum(len(value.encode()) for row in rows for value in row if value is not None)
