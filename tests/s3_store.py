"""A real S3 API on loopback for tests: moto's server in a thread, one fresh bucket per test,
Django's default storage pointed at it through STORAGE_URL's parser (as a deployment does)."""

from __future__ import annotations

import uuid

import boto3
import pytest

from finetunedb.storage_config import storage_backend

CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


@pytest.fixture(scope="session")
def s3_server():
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3_storage(s3_server, settings, monkeypatch):
    """(boto3 client, bucket name) of a new bucket that is now the default storage."""
    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    bucket = f"fdb-{uuid.uuid4().hex[:12]}"
    client = boto3.client("s3", endpoint_url=s3_server, region_name="us-east-1")
    client.create_bucket(Bucket=bucket)
    url = f"s3://{bucket}?endpoint_url={s3_server}&region=us-east-1"
    settings.STORAGES = {**settings.STORAGES, "default": storage_backend({"STORAGE_URL": url})}
    return client, bucket
