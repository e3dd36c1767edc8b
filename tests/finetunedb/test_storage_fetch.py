"""finetunedb/storage_fetch.py: the one fetch of a published folder, through Django's storage and
through boto3 with the store's configuration (the serving engine's way, no Django), and the
fetch cache kept under its size budget without ever removing an entry in use."""

from __future__ import annotations

import os
import time

import pytest

from finetunedb import storage, storage_fetch
from finetunedb.storage_config import storage_backend

pytestmark = pytest.mark.django_db

MB = 1 << 20


@pytest.fixture
def local_store(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.STORAGES = {**settings.STORAGES, "default": storage_backend({})}


def _publish(tmp_path, name: str, size: int = MB) -> str:
    source = tmp_path / "src" / name
    source.mkdir(parents=True)
    (source / "adapter_model.safetensors").write_bytes(os.urandom(size))
    (source / "adapter_config.json").write_text('{"r": 4}')
    key = storage.key_for(team_id=1, kind=storage.MODELS, name=name)
    storage.folder_publish(source=source, key=key)
    return key


def _age(entry, seconds: float) -> None:
    """Pretend ``entry`` was last used ``seconds`` ago."""
    marker = entry.with_name(entry.name + storage_fetch.USE_SUFFIX)
    then = time.time() - seconds
    os.utime(marker, (then, then))


def _fetch_three(tmp_path, cache):
    entries = []
    for i, name in enumerate(("run-1", "run-2", "run-3")):
        entries.append(storage.folder_fetch(key=_publish(tmp_path, name), cache_dir=cache))
        _age(entries[-1], 3600 * (3 - i))  # run-1 the least recently used
    return entries


def test_it_prunes_the_least_recently_used_entries_past_the_budget(local_store, tmp_path):
    cache = tmp_path / "cache"
    one, two, three = _fetch_three(tmp_path, cache)
    removed = storage_fetch.cache_prune(cache, budget_bytes=int(2.5 * MB))
    assert removed == [one]
    assert not one.exists() and two.is_dir() and three.is_dir()
    assert sum(size for _, size, _ in storage_fetch.cache_entries(cache)) <= 2.5 * MB
    # Nothing half-removed is left behind for a reader to find.
    assert not [p for p in one.parent.iterdir() if p.name.startswith(".")]


def test_it_keeps_an_entry_in_use_and_one_used_just_now(local_store, tmp_path):
    cache = tmp_path / "cache"
    one, two, three = _fetch_three(tmp_path, cache)
    key = storage.key_for(team_id=1, kind=storage.MODELS, name="run-1")
    with storage_fetch.folder_fetched(open_key=storage.file_open, key=key, cache_dir=cache) as held:
        assert held == one
        _age(one, 7200)  # in use, though its last use looks old
        _age(two, 10)  # used seconds ago: its caller may still be reading the bare path
        # three was last used an hour ago: the only one that goes
        assert storage_fetch.cache_prune(cache, budget_bytes=0) == [three]
        assert one.is_dir() and (one / "adapter_model.safetensors").stat().st_size == MB
        assert two.is_dir() and not three.exists()
    assert storage_fetch.cache_prune(cache, budget_bytes=0, grace_s=0) == [one, two]


def test_it_fetches_a_pruned_folder_again(local_store, tmp_path):
    cache = tmp_path / "cache"
    one, _, _ = _fetch_three(tmp_path, cache)
    storage_fetch.cache_prune(cache, budget_bytes=0, grace_s=0)
    assert not one.exists()
    key = storage.key_for(team_id=1, kind=storage.MODELS, name="run-1")
    again = storage.folder_fetch(key=key, cache_dir=cache)
    assert again == one and (again / "adapter_config.json").read_text() == '{"r": 4}'


def test_it_prunes_after_each_fetch_to_the_setting(local_store, tmp_path, settings):
    cache = tmp_path / "cache"
    one, two, three = _fetch_three(tmp_path, cache)
    settings.FINETUNEDB_FETCH_CACHE_BYTES = int(2.5 * MB)
    fourth = storage.folder_fetch(key=_publish(tmp_path, "run-4"), cache_dir=cache)
    assert fourth.is_dir() and three.is_dir()
    assert not one.exists() and not two.exists()


def test_it_fetches_through_boto3_with_the_stores_configuration(s3_storage, tmp_path):
    """The serving engine's way in: no Django storage, the same folder and checks."""
    _client, bucket = s3_storage
    key = _publish(tmp_path, "run-9", size=3 * 1000)
    from django.conf import settings

    options = settings.STORAGES["default"]["OPTIONS"]
    environ = {
        "STORAGE_URL": f"s3://{bucket}?endpoint_url={options['endpoint_url']}&region=us-east-1"
    }
    open_key = storage_fetch.opener_from_environ(environ)
    fetched = storage_fetch.folder_fetch(open_key=open_key, key=key, cache_dir=tmp_path / "c")
    mine = storage.folder_fetch(key=key, cache_dir=tmp_path / "django")
    assert sorted(p.name for p in fetched.iterdir()) == sorted(p.name for p in mine.iterdir())
    assert (fetched / "adapter_model.safetensors").read_bytes() == (
        mine / "adapter_model.safetensors"
    ).read_bytes()
    with pytest.raises(storage_fetch.StoredFileMissing, match="did not finish"):
        storage_fetch.folder_fetch(
            open_key=open_key, key=key.replace("run-9", "run-10"), cache_dir=tmp_path / "c"
        )
    assert storage_fetch.opener_from_environ({}) is None


def test_it_reads_under_the_stores_prefix(s3_server, monkeypatch, settings, tmp_path):
    import boto3

    from tests.s3_store import CREDENTIALS

    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    boto3.client("s3", endpoint_url=s3_server, region_name="us-east-1").create_bucket(
        Bucket="prefixed"
    )
    url = f"s3://prefixed/fdb?endpoint_url={s3_server}&region=us-east-1"
    settings.STORAGES = {**settings.STORAGES, "default": storage_backend({"STORAGE_URL": url})}
    key = _publish(tmp_path, "run-2", size=100)
    open_key = storage_fetch.opener_from_environ({"STORAGE_URL": url})
    fetched = storage_fetch.folder_fetch(open_key=open_key, key=key, cache_dir=tmp_path / "c")
    assert (fetched / "adapter_config.json").read_text() == '{"r": 4}'


HOLDER = """
import pathlib, sys
from finetunedb import storage_fetch as f

root = pathlib.Path(sys.argv[1])

def open_key(key):
    try:
        return open(root / key, "rb")
    except FileNotFoundError as error:
        raise f.StoredFileMissing(key) from error

with f.folder_fetched(open_key=open_key, key=sys.argv[2], cache_dir=pathlib.Path(sys.argv[3])) as p:
    print(p, flush=True)
    sys.stdin.readline()
"""


def test_it_never_prunes_an_entry_another_process_holds(local_store, tmp_path, settings):
    import subprocess
    import sys
    from pathlib import Path

    cache = tmp_path / "cache"
    one, two, _ = _fetch_three(tmp_path, cache)
    key = storage.key_for(team_id=1, kind=storage.MODELS, name="run-1")
    root = Path(__file__).resolve().parents[2]
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(settings.MEDIA_ROOT), key, str(cache)],
        cwd=root, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == str(one)
        _age(one, 7200)
        removed = storage_fetch.cache_prune(cache, budget_bytes=0, grace_s=0)
        assert one not in removed and two in removed and one.is_dir()
    finally:
        holder.communicate("\n", timeout=30)
    assert storage_fetch.cache_prune(cache, budget_bytes=0, grace_s=0) == [one]


# A manifest the store holds is read as data, never trusted: every shape it can be wrong in is
# a StoredFileCorrupt naming the manifest (the engine's ModelRefused), with no cache entry and
# no staging folder left behind. Before: KeyError/TypeError/AttributeError/IsADirectoryError.
TOKEN = "0" * 32
GOOD = {"path": "a.bin", "size": 3, "sha256": __import__("hashlib").sha256(b"abc").hexdigest()}


def _memory_store(manifest, objects=None):
    import io
    import json

    objects = {"k/manifest.json": json.dumps(manifest).encode(), **(objects or {})}
    reads = []

    def open_key(key):
        if key not in objects:
            raise storage_fetch.StoredFileMissing(key)
        reads.append(key)
        return io.BytesIO(objects[key])

    return open_key, reads


@pytest.mark.parametrize(
    "files",
    [
        None,
        "a.bin",
        [None],
        [{"path": 3, "size": 3, "sha256": GOOD["sha256"]}],
        [{"size": 3, "sha256": GOOD["sha256"]}],
        [{**GOOD, "size": "3"}],
        [{**GOOD, "size": -1}],
        [{**GOOD, "size": True}],
        [{**GOOD, "sha256": None}],
        [{**GOOD, "path": ""}],
        [{**GOOD, "path": "."}],
        [{**GOOD, "path": "a/./b"}],
        [{**GOOD, "path": "a//b"}],
        [{**GOOD, "path": "a\x00b"}],
        [{**GOOD, "path": "../x"}],
        [{**GOOD, "path": "/etc/x"}],
        [GOOD, GOOD],
        [GOOD, {**GOOD, "path": "a.bin/b"}],
    ],
)
def test_it_refuses_a_malformed_manifest_and_leaves_nothing(tmp_path, files):
    manifest = {"token": TOKEN} if files is None else {"token": TOKEN, "files": files}
    open_key, _ = _memory_store(manifest, {f"k/{TOKEN}/a.bin": b"abc"})
    with pytest.raises(storage_fetch.StoredFileCorrupt, match="manifest"):
        storage_fetch.folder_fetch(open_key=open_key, key="k", cache_dir=tmp_path / "cache")
    assert not [p for p in (tmp_path / "cache").rglob("*") if p.is_dir() and p.name != "k"]


def test_it_reads_no_more_of_a_stored_file_than_its_manifest_says(tmp_path):
    import hashlib
    import io

    big = b"x" * (8 * storage_fetch.CHUNK)
    entry = {"path": "a.bin", "size": 3, "sha256": hashlib.sha256(b"abc").hexdigest()}
    manifest = {"token": TOKEN, "files": [entry]}
    open_manifest, _ = _memory_store(manifest)
    read = []

    class Source(io.BytesIO):
        def read(self, size=-1):
            chunk = super().read(size)
            read.append(len(chunk))
            return chunk

    def open_key(key):
        return open_manifest(key) if key.endswith("manifest.json") else Source(big)

    with pytest.raises(storage_fetch.StoredFileCorrupt, match="size differs"):
        storage_fetch.folder_fetch(open_key=open_key, key="k", cache_dir=tmp_path / "cache")
    # one byte past the recorded size shows it differs; not the 8 MB the store held on disk
    assert read and sum(read) <= entry["size"] + 1
