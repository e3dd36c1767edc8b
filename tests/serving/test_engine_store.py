"""The engine on a machine of its own: no training worker's models folder, the fine-tune fetched
from the object store (moto's S3 server on loopback) into its own checked cache, and the same
answer as from the worker's folder. The engine reads the store through boto3 with the store's
configuration; the publish here goes through the app's storage, as the training worker's does."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from finetunedb import storage, storage_fetch
from serving.engine.models import ModelRefused, ModelStore, store_opener_from_environ
from serving.engine.scheduler import Params, Scheduler
from tests.serving.conftest import build_adapter
from tests.serving.test_engine import collect

ROOT = Path(__file__).resolve().parents[2]
KEY = "teams/4/models/run-5"
STORE = {"key": KEY, "folder": "runs/5/model"}
QUESTION = [{"role": "user", "content": "Name a colour."}]


@pytest.fixture
def published(s3_storage, settings, tiny_model_dir, tmp_path):
    """A run's model folder on the 'training machine' (tmp_path/worker), published to the bucket;
    the environment an engine elsewhere would have."""
    _client, bucket = s3_storage
    folder = tmp_path / "worker" / "runs" / "5" / "model"
    build_adapter(tiny_model_dir, folder / "weights", seed=3)
    storage.folder_publish(source=folder, key=KEY)
    endpoint = settings.STORAGES["default"]["OPTIONS"]["endpoint_url"]
    return folder, {"STORAGE_URL": f"s3://{bucket}?endpoint_url={endpoint}&region=us-east-1"}


def _answer(store: ModelStore, base, adapter, model_store=None) -> tuple[str, object]:
    scheduler = Scheduler(store, max_batch=2, max_queue=2, team_concurrency=2, window_s=0.01)
    request = scheduler.prepare(
        base=str(base), adapter=adapter, messages=QUESTION,
        params=Params(temperature=0, max_tokens=8), store=model_store,
    )  # fmt: skip
    request.team = "t"
    scheduler.submit(request)
    text, _done = collect(request)
    return text, request


def test_it_serves_a_finetune_fetched_from_the_store(
    published, s3_storage, tiny_model_dir, tmp_path
):
    folder, environ = published
    open_key, budget = store_opener_from_environ(environ)
    engine_models = tmp_path / "engine-models"  # nothing of the worker's here
    alone = ModelStore(models_dir=engine_models, allowed_bases=[tiny_model_dir], open_key=open_key)
    text, request = _answer(alone, tiny_model_dir, "runs/5/model/weights", STORE)
    fetched = Path(request.adapter)
    token = storage.folder_manifest(KEY)["token"]
    assert fetched == (engine_models / "cache" / KEY / token / "weights").resolve()
    assert (fetched / "adapter_model.safetensors").read_bytes() == (
        folder / "weights" / "adapter_model.safetensors"
    ).read_bytes()
    assert budget == 50 * 1024**3
    # The same answer as an engine beside the training worker, reading its folder.
    beside = ModelStore(models_dir=tmp_path / "worker", allowed_bases=[tiny_model_dir])
    assert _answer(beside, tiny_model_dir, "runs/5/model/weights", STORE)[0] == text
    # Fetched once: the next request reuses the checked copy (the bucket's files are not read).
    client, bucket = s3_storage
    client.delete_object(Bucket=bucket, Key=f"{KEY}/{token}/weights/adapter_model.safetensors")
    assert alone.check(str(tiny_model_dir), "runs/5/model/weights", STORE)[1] == str(fetched)
    # The base alone answers differently (the adapter is really applied).
    assert _answer(alone, tiny_model_dir, None)[0] != text


def test_it_prefers_the_folder_on_its_own_disk(published, tiny_model_dir, tmp_path):
    folder, environ = published
    open_key, _ = store_opener_from_environ(environ)
    worker_models = folder.parents[2]
    store = ModelStore(models_dir=worker_models, allowed_bases=[tiny_model_dir], open_key=open_key)
    _, adapter = store.check(str(tiny_model_dir), "runs/5/model/weights", STORE)
    assert adapter == str((folder / "weights").resolve())
    assert not (worker_models / "cache").exists()


def test_it_refuses_a_model_the_store_lacks_or_a_malformed_store(
    published, tiny_model_dir, tmp_path
):
    _, environ = published
    open_key, _ = store_opener_from_environ(environ)
    store = ModelStore(models_dir=tmp_path / "e", allowed_bases=[tiny_model_dir], open_key=open_key)
    missing = {"key": "teams/4/models/run-6", "folder": "runs/6/model"}
    with pytest.raises(ModelRefused, match="could not fetch teams/4/models/run-6.*did not finish"):
        store.check(str(tiny_model_dir), "runs/6/model/weights", missing)
    for bad in (
        {"key": "teams/4/uploads/x", "folder": "runs/5/model"},
        {"key": KEY, "folder": "runs/5/model/../../.."},
        "teams/4/models/run-5",
    ):
        with pytest.raises(ModelRefused, match="expected"):
            store.check(str(tiny_model_dir), "runs/5/model/weights", bad)
    # An adapter outside the named folder is never looked up in the store.
    with pytest.raises(ModelRefused, match="no adapter_config.json"):
        store.check(str(tiny_model_dir), "runs/9/model/weights", STORE)


def test_it_refuses_a_copy_that_differs_from_its_manifest(
    published, s3_storage, tiny_model_dir, tmp_path
):
    _, environ = published
    client, bucket = s3_storage
    token = storage.folder_manifest(KEY)["token"]
    client.put_object(Bucket=bucket, Key=f"{KEY}/{token}/weights/adapter_config.json", Body=b"{}")
    open_key, _ = store_opener_from_environ(environ)
    store = ModelStore(models_dir=tmp_path / "e", allowed_bases=[tiny_model_dir], open_key=open_key)
    with pytest.raises(ModelRefused, match="does not match its manifest"):
        store.check(str(tiny_model_dir), "runs/5/model/weights", STORE)
    assert not (tmp_path / "e" / "cache" / KEY / token).exists()


def test_it_reads_the_store_without_django(published):
    """The engine process imports no Django, also with an object store configured."""
    _, environ = published
    code = (
        "import sys, serving.engine.server, serving.engine.models as m; "
        "opener, _ = m.store_opener_from_environ(); "
        "assert opener is not None; "
        "bad = [n for n in sys.modules if n.split('.')[0] in ('django', 'rest_framework')]; "
        "assert not bad, bad"
    )
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env={**env, **environ}, check=True, timeout=120
    )
    assert storage_fetch.opener_from_environ({}) is None
