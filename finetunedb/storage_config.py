"""Which backend Django's ``default`` storage uses, read from the environment (docs/deployment.md,
"Storage"). Pure: settings call it with ``os.environ`` before Django is set up.

- ``STORAGE_URL=s3://BUCKET?endpoint_url=http://127.0.0.1:9000&region=eu-west-1&prefix=fdb``
  picks django-storages' S3 backend (any S3-compatible store); credentials come from the usual
  ``AWS_ACCESS_KEY_ID`` / ``AWS_SECRET_ACCESS_KEY`` (boto3's own chain), never from the URL.
- Without it, ``AWS_STORAGE_BUCKET_NAME`` (+ ``AWS_S3_ENDPOINT_URL``, ``AWS_S3_REGION_NAME`` or
  ``AWS_DEFAULT_REGION``) does the same, as django-storages documents.
- Otherwise ``file://`` (or nothing): the local filesystem under MEDIA_ROOT, the embedded default.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import parse_qs, urlsplit

FILESYSTEM = "django.core.files.storage.FileSystemStorage"
S3 = "storages.backends.s3.S3Storage"

BAD_SCHEME = "STORAGE_URL={url}: use s3://BUCKET?endpoint_url=...&region=... or file://"
NO_BUCKET = "STORAGE_URL={url}: name the bucket, e.g. s3://finetunedb"
CREDENTIALS_IN_URL = (
    "STORAGE_URL must not carry credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
)
UNKNOWN_OPTION = "STORAGE_URL: unknown option {name!r}; known: endpoint_url, region, prefix"

_S3_OPTIONS = {"endpoint_url": "endpoint_url", "region": "region_name", "prefix": "location"}


def storage_backend(environ: Mapping[str, str]) -> dict:
    """The ``STORAGES["default"]`` entry the environment asks for.

    >>> storage_backend({})["BACKEND"].endswith("FileSystemStorage")
    True
    >>> storage_backend({"STORAGE_URL": "s3://b?region=r"})["OPTIONS"]["region_name"]
    'r'
    """
    url = environ.get("STORAGE_URL", "").strip()
    if url:
        return _from_url(url)
    bucket = environ.get("AWS_STORAGE_BUCKET_NAME", "").strip()
    if bucket:
        options = {"bucket_name": bucket}
        endpoint = environ.get("AWS_S3_ENDPOINT_URL") or environ.get("AWS_ENDPOINT_URL")
        region = environ.get("AWS_S3_REGION_NAME") or environ.get("AWS_DEFAULT_REGION")
        if endpoint:
            options["endpoint_url"] = endpoint
        if region:
            options["region_name"] = region
        return _s3(options)
    return {"BACKEND": FILESYSTEM}


def _from_url(url: str) -> dict:
    parts = urlsplit(url)
    if parts.scheme == "file" and not parts.netloc:
        return {"BACKEND": FILESYSTEM}
    if parts.scheme != "s3":
        raise ValueError(BAD_SCHEME.format(url=url))
    if parts.username or parts.password:
        raise ValueError(CREDENTIALS_IN_URL)
    if not parts.hostname:
        raise ValueError(NO_BUCKET.format(url=url))
    options = {"bucket_name": parts.hostname}
    for name, values in parse_qs(parts.query, keep_blank_values=True).items():
        if name not in _S3_OPTIONS:
            raise ValueError(UNKNOWN_OPTION.format(name=name))
        options[_S3_OPTIONS[name]] = values[-1]
    path_prefix = parts.path.strip("/")
    if path_prefix and "location" not in options:
        options["location"] = path_prefix
    return _s3(options)


def _s3(options: dict) -> dict:
    # file_overwrite: our keys are generated, and a re-published manifest must replace the old one
    # under the same key (storage.folder_publish), not get a random suffix.
    return {"BACKEND": S3, "OPTIONS": {"file_overwrite": True, **options}}
