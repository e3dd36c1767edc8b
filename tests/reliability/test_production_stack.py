"""The production configuration, over HTTP (``scripts/test.sh production`` starts it with
``scripts/stack.sh``): gunicorn with finetunedb.settings.production, PostgreSQL, Redis, and two
Celery workers as separate processes (``-Q default`` and ``-Q training``). Token auth; upload and
poll, export, freeze, a tiny training run on the training worker, cancel, a worker killed with -9
mid-import and recovered, the broker down during an upload, and a backup restored into a new
database serving the same versions. Skipped unless the stack's env file was sourced."""

from __future__ import annotations

import glob
import json
import os
import signal
import subprocess
import time
import uuid
from pathlib import Path

import orjson
import pytest

pytestmark = [
    pytest.mark.production,
    pytest.mark.skipif(
        "FINETUNEDB_URL" not in os.environ, reason="needs scripts/test.sh production"
    ),
]

ROOT = Path(__file__).resolve().parents[2]
WAIT_S = 120


@pytest.fixture(scope="module")
def http():
    import requests

    base = os.environ["FINETUNEDB_URL"] + "/api/v1"
    session = requests.Session()
    got = session.post(
        f"{base}/auth/token/",
        json={
            "username": os.environ["FINETUNEDB_USER"],
            "password": os.environ["FINETUNEDB_PASSWORD"],
        },
        timeout=30,
    )
    assert got.status_code == 200, got.text
    session.headers["Authorization"] = f"Token {got.json()['token']}"
    session.base = base
    return session


def _get(http, path, **kw):
    response = http.get(http.base + path, timeout=60, **kw)
    assert response.status_code == 200, response.text
    return response


def _post(http, path, expect=(200, 201, 202), **kw):
    response = http.post(http.base + path, timeout=60, **kw)
    assert response.status_code in expect, response.text
    return response


def _poll(http, path, done, what):
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        body = _get(http, path).json()
        if done(body):
            return body
        time.sleep(0.3)
    pytest.fail(f"timed out waiting for {what}: {body}")


@pytest.fixture(scope="module")
def team_id(http):
    return _get(http, "/teams/").json()[0]["id"]


def _jsonl(count: int, tag: str) -> bytes:
    return b"".join(
        orjson.dumps(
            {
                "messages": [
                    {"role": "user", "content": f"{tag}: what is {i} + {i}?"},
                    {"role": "assistant", "content": f"{i} + {i} is {2 * i}."},
                ]
            }
        )
        + b"\n"
        for i in range(count)
    )


def _dataset(http, team_id, name):
    # Unique per run: the stack may outlive one test session.
    name = f"{name}-{uuid.uuid4().hex[:8]}"
    return _post(http, "/datasets/", json={"team": team_id, "name": name}).json()["id"]


def _import(http, dataset_id, body: bytes, name="rows.jsonl"):
    job = _post(http, f"/datasets/{dataset_id}/imports/", files={"file": (name, body)}).json()
    return job


def _finished_import(http, job_id):
    return _poll(
        http, f"/imports/{job_id}/", lambda j: j["status"] in ("succeeded", "failed"), "import"
    )


@pytest.fixture(scope="module")
def imported(http, team_id):
    dataset_id = _dataset(http, team_id, "production-import")
    job = _finished_import(http, _import(http, dataset_id, _jsonl(40, "prod"))["id"])
    assert job["status"] == "succeeded" and job["examples_created"] == 40, job
    return dataset_id


def _trained_model(http, version) -> tuple[dict, dict]:
    """A LoRA run on ``version`` trained on the training worker, and its model: (run, model)."""
    run = _train(http, version, checkpoint_interval=0, eval_interval=0)
    done = _poll(
        http,
        f"/training-runs/{run['id']}/",
        lambda r: r["status"] not in ("queued", "running"),
        "run",
    )
    assert done["status"] == "succeeded", done["failure_reason"]
    model = next(
        m
        for m in _get(http, f"/versions/{version['id']}/models/").json()["results"]
        if m["run"] == run["id"]
    )
    return run, model


def test_it_imports_an_upload_and_exports_it_back(http, imported):
    lines = _get(http, f"/datasets/{imported}/export/").content.splitlines()
    assert len(lines) == 40
    assert sorted(json.loads(line)["messages"][0]["content"] for line in lines) == sorted(
        f"prod: what is {i} + {i}?" for i in range(40)
    )


@pytest.fixture(scope="module")
def version(http, imported):
    return _post(http, f"/datasets/{imported}/versions/", json={"name": "prod-v1"}).json()


def test_it_freezes_a_version_and_exports_it_with_its_hash(http, version):
    assert len(version["content_hash"]) == 64
    again = _get(http, f"/versions/{version['id']}/").json()
    assert again["content_hash"] == version["content_hash"]
    body = _get(http, f"/versions/{version['id']}/export/").content
    assert len(body.splitlines()) == 40


def _train(http, version, **hyper):
    base = os.environ["FINETUNEDB_BASE_MODELS"].split(",")[0]
    hyperparameters = {"epochs": 1, "batch_size": 4, "max_seq_len": 64, "lora_r": 4, **hyper}
    return _post(
        http,
        f"/versions/{version['id']}/training-runs/",
        json={"base_model": base, "hyperparameters": hyperparameters},
    ).json()


def test_it_trains_on_the_training_worker(http, version):
    run = _train(http, version, checkpoint_interval=4, eval_interval=0)
    done = _poll(
        http,
        f"/training-runs/{run['id']}/",
        lambda r: r["status"] not in ("queued", "running"),
        "run",
    )
    assert done["status"] == "succeeded", done["failure_reason"]
    assert done["attempts"] == 1 and done["dataset_version_hash"] == version["content_hash"]
    models = _get(http, f"/versions/{version['id']}/models/").json()["results"]
    assert [m["run"] for m in models].count(run["id"]) == 1
    training_log = (Path(os.environ["STACK_DIR"]) / "training.log").read_text()
    assert "training.training_run_execute[" in training_log
    assert (
        "training.training_run_execute["
        not in (Path(os.environ["STACK_DIR"]) / "default.log").read_text()
    )


def test_it_cancels_a_running_run(http, version):
    run = _train(http, version, epochs=20, batch_size=1, checkpoint_interval=0, eval_interval=0)
    _poll(http, f"/training-runs/{run['id']}/", lambda r: r["step"] >= 1, "the first step")
    _post(http, f"/training-runs/{run['id']}/cancel/")
    done = _poll(http, f"/training-runs/{run['id']}/", lambda r: r["status"] != "running", "cancel")
    assert done["status"] == "cancelled" and done["model"] is None


def _sql(statement: str) -> None:
    import psycopg

    with psycopg.connect(os.environ["DATABASE_URL"].replace("postgres://", "postgresql://")) as db:
        db.execute(statement)


def _restart_worker(queue: str, **env) -> None:
    subprocess.run(
        [ROOT / "scripts" / "stack.sh", "worker", queue],
        env={**os.environ, **env},
        check=True,
        timeout=90,
    )


def _kill_worker(queue: str) -> None:
    pid = int((Path(os.environ["STACK_DIR"]) / f"{queue}.pid").read_text())
    os.killpg(pid, signal.SIGKILL)


def test_it_recovers_an_import_after_the_worker_is_killed(http, team_id):
    dataset_id = _dataset(http, team_id, "production-kill")
    _restart_worker("default", FINETUNEDB_FAULTS="import.before_commit=kill")
    try:
        job = _import(http, dataset_id, _jsonl(500, "kill"))
        _poll(
            http,
            f"/imports/{job['id']}/",
            lambda j: j["attempts"] == 1 and j["status"] == "running",
            "claim",
        )
        log = Path(os.environ["STACK_DIR"]) / "default.log"
        deadline = time.monotonic() + WAIT_S
        while (
            b"fault point import.before_commit" not in log.read_bytes()
            and time.monotonic() < deadline
        ):
            time.sleep(0.2)
        _kill_worker("default")
        killed = _get(http, f"/imports/{job['id']}/").json()
        assert killed["status"] == "running" and killed["examples_created"] == 0
        assert _get(http, f"/datasets/{dataset_id}/examples/").json()["count"] == 0
        # Stands for the 60 s lease running out.
        _sql(
            f"UPDATE datasets_app_importjob SET lease_expires_at = now() - interval '1 second' WHERE id = {int(job['id'])}"
        )
    finally:
        _restart_worker("default")
    done = _finished_import(http, job["id"])
    assert (done["status"], done["attempts"], done["examples_created"]) == ("succeeded", 2, 500)
    assert _get(http, f"/datasets/{dataset_id}/examples/").json()["count"] == 500


def test_it_answers_503_and_keeps_nothing_queued_while_the_broker_is_down(http, team_id):
    dataset_id = _dataset(http, team_id, "production-broker")
    subprocess.run([ROOT / "scripts" / "redis.sh", "stop"], check=True, timeout=60)
    try:
        refused = http.post(
            f"{http.base}/datasets/{dataset_id}/imports/",
            files={"file": ("a.jsonl", _jsonl(3, "b"))},
            timeout=60,
        )
        assert refused.status_code == 503, refused.text
        assert refused.json()["code"] == "queue_unavailable" and refused.headers["Retry-After"]
        assert _get(http, f"/datasets/{dataset_id}/imports/").json()["count"] == 0
    finally:
        subprocess.run(
            [ROOT / "scripts" / "redis.sh", "start"], check=True, timeout=60, capture_output=True
        )
        # A Celery 5.7 / kombu 5.7 worker may exit ("Unrecoverable error: AttributeError ...
        # 'hostname'") when Redis goes away under it: restarted here as systemd's Restart=always
        # restarts it in a deployment (docs/deployment.md).
        _restart_worker("default")
        _restart_worker("training")
    # Nothing was left queued by the refused upload; the client's retry goes through.
    job = _finished_import(http, _import(http, dataset_id, _jsonl(3, "b"))["id"])
    assert job["status"] == "succeeded" and job["examples_created"] == 3


def test_it_serves_the_same_versions_from_a_restored_backup(http, version, tmp_path):
    """docs/deployment.md's backup and restore, done: pg_dump → a new database → same hashes."""
    bin_dir = sorted(glob.glob("/usr/lib/postgresql/*/bin"))[-1]
    url = os.environ["DATABASE_URL"]
    restored = url.rsplit("/", 1)[0] + "/finetunedb_restored"
    dump = tmp_path / "finetunedb.dump"
    subprocess.run([f"{bin_dir}/pg_dump", "-Fc", "-f", dump, "-d", url], check=True, timeout=120)
    admin = url.rsplit("/", 1)[0] + "/postgres"
    subprocess.run(
        [f"{bin_dir}/psql", "-q", "-d", admin, "-c", "DROP DATABASE IF EXISTS finetunedb_restored"],
        check=True,
    )
    subprocess.run(
        [f"{bin_dir}/psql", "-q", "-d", admin, "-c", "CREATE DATABASE finetunedb_restored"],
        check=True,
    )
    subprocess.run(
        [f"{bin_dir}/pg_restore", "--no-owner", "-d", restored, dump], check=True, timeout=120
    )
    script = (
        "import json; from datasets_app.models import DatasetVersion; "
        "from training.services.records import version_hash_recompute as r; "
        "print(json.dumps({v.pk: [v.content_hash, r(v)] for v in DatasetVersion.objects.all()}))"
    )
    out = (
        subprocess.run(
            [ROOT / ".venv" / "bin" / "python", "manage.py", "shell", "-c", script],
            cwd=ROOT,
            env={**os.environ, "DATABASE_URL": restored},
            check=True,
            capture_output=True,
            timeout=120,
        )
        .stdout.decode()
        .strip()
        .splitlines()[-1]
    )
    hashes = json.loads(out)
    assert hashes[str(version["id"])] == [version["content_hash"]] * 2
    assert all(stored == recomputed for stored, recomputed in hashes.values())


def test_it_downloads_the_trained_model_through_the_object_store(http, version, team_id):
    """No folder is shared: the training worker published the model to the loopback S3 API and
    the web fetched it from there into its own cache (docs/deployment.md, "Storage")."""
    import hashlib
    from urllib.parse import parse_qs, urlsplit

    import boto3

    run, model = _trained_model(http, version)
    data = Path(os.environ["DATA_DIR"])
    assert not (data / "models" / "runs" / str(run["id"])).exists()
    assert (Path(f"{data}-training") / "models" / "runs" / str(run["id"]) / "model").is_dir()
    weights = _get(http, f"/models/{model['id']}/download/").content
    assert hashlib.sha256(weights).hexdigest() == model["weights_sha256"]
    url = urlsplit(os.environ["STORAGE_URL"])
    s3 = boto3.client("s3", endpoint_url=parse_qs(url.query)["endpoint_url"][0])
    key = f"teams/{team_id}/models/run-{run['id']}/manifest.json"
    assert s3.head_object(Bucket=url.hostname, Key=key)["ContentLength"] > 0
    assert not (Path(f"{data}-training") / "uploads").exists() or not any(
        (Path(f"{data}-training") / "uploads").iterdir()
    )


def test_it_chats_with_a_finetune_the_engine_fetched_from_the_object_store(http, version, team_id):
    """The serving engine runs on a machine of its own (its DATA_DIR-serving shares nothing):
    the model trained on the training worker reaches it through the bucket only."""
    run, model = _trained_model(http, version)
    name = f"ftdb-model-{model['id']}"
    token = http.headers["Authorization"].split()[-1]
    chat = http.post(
        os.environ["FINETUNEDB_URL"] + "/v1/chat/completions",
        headers={"Authorization": f"Bearer {token}"},
        json={
            "model": name,
            "messages": [{"role": "user", "content": "prod: what is 3 + 3?"}],
            "max_tokens": 6,
            "temperature": 0,
        },
        timeout=120,
    )
    assert chat.status_code == 200, chat.text
    body = chat.json()
    assert body["model"] == name and body["usage"]["completion_tokens"] >= 1
    serving = Path(os.environ["DATA_DIR"] + "-serving") / "models"
    assert not (serving / "runs").exists()  # never the training worker's folder
    cached = serving / "cache" / "teams" / str(team_id) / "models" / f"run-{run['id']}"
    tokens = [p for p in cached.iterdir() if p.is_dir()]
    assert len(tokens) == 1 and (tokens[0] / "weights" / "adapter_config.json").is_file()
    # The copy is the one published: its manifest's token and the worker's weights, byte for byte.
    from urllib.parse import parse_qs, urlsplit

    import boto3

    url = urlsplit(os.environ["STORAGE_URL"])
    s3 = boto3.client("s3", endpoint_url=parse_qs(url.query)["endpoint_url"][0])
    key = f"teams/{team_id}/models/run-{run['id']}/manifest.json"
    manifest = json.loads(s3.get_object(Bucket=url.hostname, Key=key)["Body"].read())
    assert tokens[0].name == manifest["token"]
    worker = Path(os.environ["DATA_DIR"] + "-training") / "models" / "runs" / str(run["id"])
    weights = [f for f in manifest["files"] if f["path"].startswith("weights/")]
    assert weights and all(
        (tokens[0] / f["path"]).read_bytes() == (worker / "model" / f["path"]).read_bytes()
        for f in weights
    )


def test_it_lists_only_unreferenced_objects_for_cleanup(http, imported, version, team_id):
    """``manage.py storage_cleanup --dry-run`` with the stack's settings, database and bucket
    (pytest's own are the test settings, with a local store): with no
    retention and no min age, the finished imports' uploads would go, never a model folder
    that a model row references, nor an import's error report."""
    models = _get(http, f"/versions/{version['id']}/models/").json()["results"]
    if not models:
        run = _train(http, version, checkpoint_interval=0, eval_interval=0)
        _poll(
            http,
            f"/training-runs/{run['id']}/",
            lambda r: r["status"] not in ("queued", "running"),
            "run",
        )
        models = _get(http, f"/versions/{version['id']}/models/").json()["results"]
    assert models
    out = subprocess.run(
        [ROOT / ".venv" / "bin" / "python", "manage.py", "storage_cleanup", "--dry-run",
         "--min-age-s", "0", "--upload-retention-days", "0"],
        cwd=ROOT, env={**os.environ, "DJANGO_SETTINGS_MODULE": "finetunedb.settings.production"},
        check=True, capture_output=True, timeout=120, text=True,
    ).stdout  # fmt: skip
    listed = [line.split()[-1] for line in out.splitlines() if line.startswith("would delete")]
    assert any(k.startswith(f"teams/{team_id}/uploads/") for k in listed), out
    for model in models:
        assert not any(f"/models/run-{model['run']}/" in k for k in listed), out
    assert not any("/reports/" in k for k in listed), out
    assert "Would delete" in out.splitlines()[-1]


def test_it_counts_what_the_store_holds_and_keeps_no_local_copies(http, imported, version, team_id):
    """Nothing is shared on disk: the web and the import worker keep no copy of an upload once
    the store has it and the import is over, and the web's disk holds no model; yet the team's
    storage usage counts every model's published files, as the bucket holds them."""
    from urllib.parse import parse_qs, urlsplit

    import boto3

    data = Path(os.environ["DATA_DIR"])
    for folder in (data / "uploads", Path(f"{data}-default") / "uploads"):
        assert not folder.exists() or not any(folder.iterdir()), sorted(folder.iterdir())
    assert not (data / "models" / "runs").exists() or not any((data / "models" / "runs").iterdir())
    url = urlsplit(os.environ["STORAGE_URL"])
    s3 = boto3.client("s3", endpoint_url=parse_qs(url.query)["endpoint_url"][0])
    pages = s3.get_paginator("list_objects_v2").paginate(
        Bucket=url.hostname, Prefix=f"teams/{team_id}/models/"
    )
    manifests = [
        o["Key"]
        for p in pages
        for o in p.get("Contents", ())
        if o["Key"].count("/") == 4 and o["Key"].endswith("/manifest.json")
    ]  # teams/<t>/models/run-<id>/manifest.json, not the model's own manifest.json inside
    assert manifests
    published = sum(
        entry["size"]
        for key in manifests
        for entry in json.loads(s3.get_object(Bucket=url.hostname, Key=key)["Body"].read())["files"]
    )
    team = next(t for t in _get(http, "/teams/").json() if t["id"] == team_id)
    assert team["storage"]["parts"]["models"] == published
    assert team["storage"]["parts"]["uploads"] > 0
