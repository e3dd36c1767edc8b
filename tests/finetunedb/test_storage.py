"""finetunedb/storage.py against a real S3 API on loopback (moto in server mode) and against the
local folder: the same calls, the same outcomes."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from finetunedb import storage
from finetunedb.storage_config import storage_backend

pytestmark = pytest.mark.django_db


@pytest.fixture(params=["s3", "local"])
def store(request, settings, tmp_path):
    """Django's default storage pointed at a fresh bucket on the loopback S3 API, or a folder."""
    if request.param == "local":
        settings.MEDIA_ROOT = str(tmp_path / "media")
        settings.STORAGES = {**settings.STORAGES, "default": storage_backend({})}
        return None
    return request.getfixturevalue("s3_storage")


def _model_folder(path):
    (path / "sub").mkdir(parents=True)
    (path / "config.json").write_text('{"layers": 2}')
    (path / "model.safetensors").write_bytes(bytes(range(256)) * 4000)
    (path / "sub" / "tokenizer.json").write_text("{}")
    return path


def test_it_round_trips_a_file(store):
    key = storage.key_for(team_id=1, kind=storage.UPLOADS, name="a.jsonl")
    storage.file_put(key=key, content=b'{"x": 1}\n')
    with storage.file_open(key) as handle:
        assert handle.read() == b'{"x": 1}\n'


def test_it_replaces_a_file_under_the_same_key(store):
    key = storage.key_for(team_id=1, kind=storage.EXPORTS, name="v1.jsonl")
    storage.file_put(key=key, content=b"old")
    storage.file_put(key=key, content=b"new")
    with storage.file_open(key) as handle:
        assert handle.read() == b"new"


def test_it_says_clearly_when_a_file_is_missing(store):
    key = storage.key_for(team_id=1, kind=storage.REPORTS, name="nothing.csv")
    with pytest.raises(storage.StoredFileMissing, match="never uploaded"):
        storage.file_open(key)


def test_it_publishes_and_fetches_a_model_folder(store, tmp_path):
    source = _model_folder(tmp_path / "run")
    key = storage.key_for(team_id=2, kind=storage.MODELS, name="run-7")
    manifest = storage.folder_publish(source=source, key=key)
    fetched = storage.folder_fetch(key=key, cache_dir=tmp_path / "cache")
    assert sorted(p.relative_to(fetched).as_posix() for p in fetched.rglob("*") if p.is_file()) == [
        "config.json",
        "model.safetensors",
        "sub/tokenizer.json",
    ]
    assert (fetched / "model.safetensors").read_bytes() == bytes(range(256)) * 4000
    assert fetched.name == manifest["token"]
    # A second fetch reuses the cache; a re-publish gets a fresh folder.
    assert storage.folder_fetch(key=key, cache_dir=tmp_path / "cache") == fetched
    (source / "config.json").write_text('{"layers": 3}')
    storage.folder_publish(source=source, key=key)
    again = storage.folder_fetch(key=key, cache_dir=tmp_path / "cache")
    assert again != fetched
    assert (again / "config.json").read_text() == '{"layers": 3}'


def test_it_shows_no_half_model_after_an_interrupted_upload(store, tmp_path, monkeypatch):
    source = _model_folder(tmp_path / "run")
    key = storage.key_for(team_id=2, kind=storage.MODELS, name="run-8")
    real_put = storage.file_put
    calls = []

    def put_then_die(*, key, content):
        calls.append(key)
        if len(calls) == 2:  # the connection drops after the first file went up
            raise ConnectionError("upload cut off")
        return real_put(key=key, content=content)

    monkeypatch.setattr(storage, "file_put", put_then_die)
    with pytest.raises(ConnectionError):
        storage.folder_publish(source=source, key=key)
    monkeypatch.setattr(storage, "file_put", real_put)
    with pytest.raises(storage.StoredFileMissing, match="did not finish"):
        storage.folder_fetch(key=key, cache_dir=tmp_path / "cache")
    assert not (tmp_path / "cache" / key).exists() or not any(
        p for p in (tmp_path / "cache" / key).iterdir() if not p.name.startswith(".partial-")
    )


def test_it_keeps_the_old_model_visible_while_a_new_upload_is_cut_off(store, tmp_path, monkeypatch):
    source = _model_folder(tmp_path / "run")
    key = storage.key_for(team_id=2, kind=storage.MODELS, name="run-9")
    first = storage.folder_publish(source=source, key=key)
    real_put = storage.file_put

    def die_on_manifest(*, key, content):
        if key.endswith(storage.MANIFEST):
            raise ConnectionError("upload cut off")
        return real_put(key=key, content=content)

    monkeypatch.setattr(storage, "file_put", die_on_manifest)
    with pytest.raises(ConnectionError):
        storage.folder_publish(source=source, key=key)
    monkeypatch.setattr(storage, "file_put", real_put)
    assert storage.folder_fetch(key=key, cache_dir=tmp_path / "cache").name == first["token"]


def test_it_refuses_a_fetched_file_that_differs_from_its_manifest(store, tmp_path):
    source = _model_folder(tmp_path / "run")
    key = storage.key_for(team_id=2, kind=storage.MODELS, name="run-10")
    manifest = storage.folder_publish(source=source, key=key)
    manifest["files"][0]["sha256"] = "0" * 64
    storage.file_put(key=f"{key}/{storage.MANIFEST}", content=json.dumps(manifest).encode())
    with pytest.raises(storage.StoredFileCorrupt, match="sha256 differs"):
        storage.folder_fetch(key=key, cache_dir=tmp_path / "cache")
    assert not (tmp_path / "cache" / key / manifest["token"]).exists()


def test_it_writes_objects_into_the_bucket(s3_storage, tmp_path):
    client, bucket = s3_storage
    key = storage.key_for(team_id=4, kind=storage.EMBEDDINGS, name="v3")
    storage.folder_publish(source=_model_folder(tmp_path / "m"), key=key)
    listed = {o["Key"] for o in client.list_objects_v2(Bucket=bucket)["Contents"]}
    assert f"{key}/manifest.json" in listed
    assert len(listed) == 4


def test_it_keeps_each_team_under_its_own_prefix():
    one = storage.key_for(team_id=1, kind=storage.MODELS, name="run-1")
    two = storage.key_for(team_id=2, kind=storage.MODELS, name="run-1")
    assert one != two
    assert one.startswith("teams/1/") and two.startswith("teams/2/")


@given(st.text(min_size=1, max_size=40))
def test_it_never_lets_a_name_leave_its_team_prefix(name):
    try:
        key = storage.key_for(team_id=5, kind=storage.UPLOADS, name=name)
    except ValueError:
        return
    assert key == f"teams/5/uploads/{name}"
    assert "/" not in name and ".." not in name and not name.startswith(".")


def test_it_refuses_an_unknown_kind():
    with pytest.raises(ValueError, match="unknown storage kind"):
        storage.key_for(team_id=1, kind="../etc", name="x")
