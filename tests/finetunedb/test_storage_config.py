"""finetunedb/storage_config.py: the environment picks the default storage backend."""

from __future__ import annotations

import pytest

from finetunedb.storage_config import FILESYSTEM, S3, storage_backend


def test_it_keeps_the_local_folder_by_default():
    assert storage_backend({}) == {"BACKEND": FILESYSTEM}
    assert storage_backend({"STORAGE_URL": "file://"}) == {"BACKEND": FILESYSTEM}


def test_it_reads_an_s3_url():
    backend = storage_backend(
        {
            "STORAGE_URL": "s3://models?endpoint_url=http://127.0.0.1:9000&region=eu-west-1&prefix=fdb"
        }
    )
    assert backend["BACKEND"] == S3
    assert backend["OPTIONS"] == {
        "bucket_name": "models",
        "endpoint_url": "http://127.0.0.1:9000",
        "region_name": "eu-west-1",
        "location": "fdb",
        "file_overwrite": True,
    }


def test_it_reads_the_standard_aws_variables():
    backend = storage_backend(
        {
            "AWS_STORAGE_BUCKET_NAME": "b",
            "AWS_S3_ENDPOINT_URL": "http://127.0.0.1:9000",
            "AWS_DEFAULT_REGION": "us-east-1",
        }
    )
    assert backend["OPTIONS"]["bucket_name"] == "b"
    assert backend["OPTIONS"]["endpoint_url"] == "http://127.0.0.1:9000"
    assert backend["OPTIONS"]["region_name"] == "us-east-1"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("gs://bucket", "use s3://"),
        ("s3://", "name the bucket"),
        ("s3://key:secret@bucket", "must not carry credentials"),
        ("s3://bucket?acl=public-read", "unknown option 'acl'"),
    ],
)
def test_it_refuses_a_bad_url_clearly(url, message):
    with pytest.raises(ValueError, match=message):
        storage_backend({"STORAGE_URL": url})
