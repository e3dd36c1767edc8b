"""finetunedb/storage_cleanup.py on a real S3 API on loopback (moto's server) and on the local
folder: what rows reference stays, uploads go after their retention, files of deleted rows,
unrecorded publishes and replaced tokens go once old enough, nothing younger than the min age
goes, and ``--dry-run`` deletes nothing."""

from __future__ import annotations

import os
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from datasets_app.models import ImportJob, ImportStatus
from finetunedb import storage
from finetunedb.storage_cleanup import storage_cleanup
from finetunedb.storage_config import storage_backend
from tests.training.conftest import make_version, version  # noqa: F401
from training.models import ModelArtifact, RunStatus, TrainingRun

pytestmark = pytest.mark.django_db

HOUR = 3600
# Everything written by a test is an hour old "later", past a half-hour min age.
LATER = {"min_age_s": HOUR // 2}


def later() -> float:
    return time.time() + HOUR


@pytest.fixture(params=["s3", "local"])
def store(request, settings, tmp_path):
    if request.param == "local":
        settings.MEDIA_ROOT = str(tmp_path / "media")
        settings.STORAGES = {**settings.STORAGES, "default": storage_backend({})}
        return "local"
    request.getfixturevalue("s3_storage")
    return "s3"


def keys() -> set[str]:
    return {key for key, _size, _modified in storage.objects_list("teams")}


def _job(dataset, name, status, finished_days_ago=None):
    finished = None
    if finished_days_ago is not None:
        finished = timezone.now() - timedelta(days=finished_days_ago)
    job = ImportJob.objects.create(
        dataset=dataset, stored_name=name, status=status, finished_at=finished
    )
    upload = storage.key_for(team_id=dataset.team_id, kind=storage.UPLOADS, name=name)
    report = storage.key_for(
        team_id=dataset.team_id, kind=storage.REPORTS, name=f"{name}.errors.jsonl"
    )
    storage.file_put(key=upload, content=b'{"messages": []}\n')
    storage.file_put(key=report, content=b'{"line": 1}\n')
    return job, upload, report


def test_it_deletes_uploads_past_retention_and_keeps_what_imports_still_need(store, dataset):
    _, old_done, old_done_report = _job(dataset, "a" * 32, ImportStatus.SUCCEEDED, 10)
    _, old_failed, _ = _job(dataset, "b" * 32, ImportStatus.FAILED, 8)
    _, recent_failed, _ = _job(dataset, "c" * 32, ImportStatus.FAILED, 1)  # may be retried
    _, queued, _ = _job(dataset, "d" * 32, ImportStatus.QUEUED)
    orphan = storage.key_for(team_id=dataset.team_id, kind=storage.UPLOADS, name="e" * 32)
    storage.file_put(key=orphan, content=b"x")  # stored, but its job row was never created

    report = storage_cleanup(now=later(), **LATER)

    assert set(report.deleted) == {old_done, old_failed, orphan}
    assert keys() >= {recent_failed, queued, old_done_report}
    assert not keys() & {old_done, old_failed, orphan}
    assert report.bytes_freed == 2 * len(b'{"messages": []}\n') + 1


def test_it_keeps_everything_younger_than_the_min_age(store, dataset):
    _job(dataset, "a" * 32, ImportStatus.SUCCEEDED, 10)
    orphan = storage.key_for(team_id=dataset.team_id, kind=storage.UPLOADS, name="e" * 32)
    storage.file_put(key=orphan, content=b"x")
    before = keys()
    report = storage_cleanup(min_age_s=HOUR)  # everything was written seconds ago
    assert report.deleted == [] and report.kept_young == 2
    assert keys() == before


def test_it_deletes_the_files_of_a_deleted_dataset(store, dataset, other_dataset, tmp_path):
    _, upload, report_key = _job(dataset, "a" * 32, ImportStatus.SUCCEEDED, 0)

    def embeddings(of):
        name = f"dataset-{of.pk}-minilm"
        key = storage.key_for(team_id=of.team_id, kind=storage.EMBEDDINGS, name=name)
        storage.folder_publish(source=_folder(tmp_path / name), key=key)
        return key

    gone, kept = embeddings(dataset), embeddings(other_dataset)
    assert storage_cleanup(now=later(), **LATER).deleted == []  # all referenced

    dataset.delete()
    report = storage_cleanup(now=later(), **LATER)
    assert {upload, report_key, f"{gone}/manifest.json"} <= set(report.deleted)
    assert not [k for k in keys() if k.startswith(gone + "/")]
    assert {k for k in keys() if k.startswith(kept + "/")} and upload not in keys()
    ordered = [k for k in report.deleted if k.startswith(gone + "/")]
    assert ordered[0] == f"{gone}/manifest.json" and len(ordered) == 3


def _folder(path: Path, content: bytes = b"weights") -> Path:
    (path / "weights").mkdir(parents=True)
    (path / "weights" / "adapter_model.safetensors").write_bytes(content)
    (path / "README.md").write_text("card")
    return path


def _run(of, status=RunStatus.SUCCEEDED, model=True):
    run = TrainingRun.objects.create(
        version=of,
        dataset_version_hash=of.content_hash,
        base_model="bundled:x",
        config={},
        status=status,
    )
    if model:
        ModelArtifact.objects.create(run=run, path=f"runs/{run.pk}/model", weights_sha256="0" * 64)
    team_id = of.dataset.team_id
    return run, storage.key_for(team_id=team_id, kind=storage.MODELS, name=f"run-{run.pk}")


def _tokens(key: str) -> set[str]:
    return {k[len(key) + 1 :].split("/")[0] for k in keys() if k.startswith(key + "/")}


def test_it_keeps_a_models_current_token_and_deletes_the_replaced_one(
    store,
    version,  # noqa: F811
    tmp_path,
):
    _, key = _run(version)
    first = storage.folder_publish(source=_folder(tmp_path / "a", b"one"), key=key)
    second = storage.folder_publish(source=_folder(tmp_path / "b", b"two"), key=key)
    assert _tokens(key) == {first["token"], second["token"], "manifest.json"}

    dry = storage_cleanup(dry_run=True, now=later(), **LATER)
    assert dry.dry_run and len(dry.deleted) == 2
    assert _tokens(key) == {first["token"], second["token"], "manifest.json"}

    report = storage_cleanup(now=later(), **LATER)
    assert sorted(report.deleted) == sorted(dry.deleted)
    assert all(k.startswith(f"{key}/{first['token']}/") for k in report.deleted)
    assert _tokens(key) == {second["token"], "manifest.json"}
    fetched = storage.folder_fetch(key=key, cache_dir=tmp_path / "cache")
    assert (fetched / "weights" / "adapter_model.safetensors").read_bytes() == b"two"


def test_it_deletes_an_unrecorded_publish_but_not_one_in_progress(
    store,
    version,  # noqa: F811
    tmp_path,
):
    _, lost = _run(version, status=RunStatus.FAILED, model=False)  # lost its lease, say
    _, training = _run(version, status=RunStatus.RUNNING, model=False)
    storage.folder_publish(source=_folder(tmp_path / "a"), key=lost)
    storage.folder_publish(source=_folder(tmp_path / "b"), key=training)
    report = storage_cleanup(now=later(), **LATER)
    assert report.deleted[0] == f"{lost}/manifest.json"  # readers lose it first
    assert _tokens(lost) == set() and len(_tokens(training)) == 2
    with pytest.raises(storage.StoredFileMissing):
        storage.folder_manifest(lost)


def test_it_keeps_a_replaced_token_while_its_replacement_is_recent(
    settings,
    tmp_path,
    version,  # noqa: F811
):
    """Local folder only (mtimes can be set): the old token's files are old, but the manifest
    that replaced it was written a minute ago; a reader may still be copying the old files."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.STORAGES = {**settings.STORAGES, "default": storage_backend({})}
    _, key = _run(version)
    first = storage.folder_publish(source=_folder(tmp_path / "a", b"one"), key=key)
    old = time.time() - 3 * HOUR
    for path in (Path(settings.MEDIA_ROOT) / key / first["token"]).rglob("*"):
        os.utime(path, (old, old))
    storage.folder_publish(source=_folder(tmp_path / "b", b"two"), key=key)
    report = storage_cleanup(min_age_s=HOUR)
    assert report.deleted == [] and first["token"] in _tokens(key)
    manifest = Path(settings.MEDIA_ROOT) / key / "manifest.json"
    os.utime(manifest, (old, old))
    assert storage_cleanup(min_age_s=HOUR).deleted and first["token"] not in _tokens(key)
    assert not (Path(settings.MEDIA_ROOT) / key / first["token"]).exists()  # no empty folders


def test_it_never_touches_a_kind_no_app_vouches_for(store, dataset):
    export = storage.key_for(team_id=dataset.team_id, kind=storage.EXPORTS, name="v1.jsonl")
    storage.file_put(key=export, content=b"{}\n")
    assert storage_cleanup(now=later() + 100 * 86400, **LATER).deleted == []
    assert export in keys()


def test_its_command_lists_with_dry_run_then_deletes(store, dataset, capsys):
    _, upload, _ = _job(dataset, "a" * 32, ImportStatus.SUCCEEDED, 10)
    call_command("storage_cleanup", "--dry-run", "--min-age-s", "0")
    out = capsys.readouterr().out
    assert f"would delete {upload}" in out and "Would delete 1 stored objects" in out
    assert upload in keys()
    call_command("storage_cleanup", "--min-age-s", "0", "--upload-retention-days", "30")
    assert "Deleted 0 stored objects" in capsys.readouterr().out and upload in keys()
    call_command("storage_cleanup", "--min-age-s", "0")
    assert f"deleted {upload}" in capsys.readouterr().out and upload not in keys()


def test_its_periodic_task_runs_the_cleanup(store, dataset, settings):
    from finetunedb.teams.tasks import storage_cleanup as task

    _, upload, _ = _job(dataset, "a" * 32, ImportStatus.SUCCEEDED, 10)
    settings.FINETUNEDB_STORAGE_CLEANUP_MIN_AGE_S = 0
    assert settings.CELERY_BEAT_SCHEDULE["storage-cleanup"]["task"] == task.name
    task.apply()
    assert upload not in keys()


TOKENS = [f"{i:x}" * 32 for i in range(1, 4)]
_group = st.one_of(st.sampled_from(TOKENS), st.just(".partial-x"))
# around the min age (an hour), where the decisions change
_age = st.sampled_from([0, HOUR // 2, HOUR - 1, HOUR, 5 * HOUR])


@hypothesis_settings(max_examples=400)
@given(
    folder=st.booleans(),
    referenced=st.booleans(),
    manifest_age=st.one_of(st.none(), _age),
    current=st.one_of(st.none(), st.sampled_from(TOKENS)),
    files=st.lists(st.tuples(_group, st.sampled_from(["a", "w/b"]), _age), max_size=8),
)
def test_it_never_deletes_what_is_referenced_or_young(
    folder, referenced, manifest_age, current, files
):
    from finetunedb.storage_cleanup import (
        CleanupPolicy,
        CleanupReport,
        doomed_objects,
    )

    now, min_age = 100 * HOUR, HOUR
    prefix = "teams/1/models/run-1" if folder else "teams/1/uploads/" + "a" * 32
    if folder:
        objects = [
            (f"{prefix}/{group}/{name}", group + "/" + name, 1, now - age)
            for group, name, age in files
        ]
        if manifest_age is not None:
            objects.append((f"{prefix}/manifest.json", "manifest.json", 1, now - manifest_age))
    else:
        objects = [(prefix, "", 1, now - age) for _g, _n, age in files[:1]]
    doomed = doomed_objects(
        kind=storage.MODELS if folder else storage.UPLOADS,
        objects=objects,
        is_referenced=referenced,
        current_token=current if manifest_age is not None else None,
        policy=CleanupPolicy(now=now, min_age_s=min_age, upload_retention_s=0),
        report=CleanupReport(),
    )
    modified = {key: m for key, _rest, _size, m in objects}
    assert all(now - modified[key] >= min_age for key, _size in doomed)
    if referenced and not folder:
        assert doomed == []
    if referenced and folder:
        assert not any(key.endswith("/manifest.json") for key, _ in doomed)
        if manifest_age is not None:
            if current is None:
                assert doomed == []  # an unreadable manifest keeps its folder whole
            assert not any(key.startswith(f"{prefix}/{current}/") for key, _ in doomed)
            if manifest_age < min_age:
                assert doomed == []  # replaced recently: a reader may still be copying
    if not referenced and folder and doomed:
        assert len(doomed) == len(objects)  # all or nothing
        if manifest_age is not None:
            assert doomed[0][0] == f"{prefix}/manifest.json"
