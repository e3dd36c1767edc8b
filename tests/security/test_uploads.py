"""Checklist D (API4): the upload and parsing abuse corpus of SECURITY.md §3 D.

Imports are jobs: the upload is answered at once (202, or 4xx when the request itself is
refused), and the worker (eager in tests) reads the file. For every abusive file the job ends
``failed`` with a named row-error code, nothing is stored, no staging row is left, and the
process's memory stays bounded.
"""

import gzip
import io
import resource
import zlib

import pytest

from datasets_app.formats import Limits
from datasets_app.models import Example, ImportJob

pytestmark = pytest.mark.django_db

MIB = 1024 * 1024
GOOD = b'{"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]}\n'


def named(data: bytes, name: str) -> io.BytesIO:
    handle = io.BytesIO(data)
    handle.name = name
    return handle


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@pytest.fixture
def alice(owner, api_for):
    return api_for(owner)


@pytest.fixture
def upload(alice, dataset, django_capture_on_commit_callbacks):
    def post(data: bytes, name="data.jsonl", **fields):
        with django_capture_on_commit_callbacks(execute=True):
            return alice.post(
                f"/api/v1/datasets/{dataset.pk}/imports/",
                {"file": named(data, name), **fields},
                format="multipart",
            )

    return post


def job_of(alice, response) -> dict:
    assert response.status_code == 202, response.content
    return alice.get(response["Location"]).json()


def assert_nothing_stored():
    assert Example.objects.count() == 0
    assert all(job.is_finished for job in ImportJob.objects.all())


CORPUS = {
    # D29: a depth bomb raises RecursionError in json.loads, not JSONDecodeError
    "depth-bomb": (b"[" * 100_000 + b"\n", "too_deep"),
    "depth-bomb-object": (b'{"a":' * 5_000 + b"1" + b"}" * 5_000 + b"\n", "too_deep"),
    # D31: values json.loads accepts but we must not store
    "nan": (b'{"messages": [{"role": "user", "content": NaN}]}\n', "nan_not_allowed"),
    "infinity": (
        b'{"messages": [{"role": "user", "content": "x", "w": -Infinity}]}\n',
        "nan_not_allowed",
    ),
    "duplicate-key": (
        b'{"messages": [{"role": "user", "role": "system", "content": "x"}]}\n',
        "duplicate_key",
    ),
    "lone-surrogate": (
        b'{"messages": [{"role": "user", "content": "\\ud800"}]}\n',
        "lone_surrogate",
    ),
    "nul": (b'{"messages": [{"role": "user", "content": "a\\u0000b"}]}\n', "nul_character"),
    # orjson reads a 5,000-digit integer as a float overflow; either code refuses it
    "huge-int": (
        b'{"messages": [{"role": "user", "content": "x"}], "n": ' + b"9" * 5000 + b"}\n",
        ("integer_out_of_range", "nan_not_allowed"),
    ),
    # D30: bytes that are not UTF-8, and nothing at all
    "invalid-utf8": (b'{"messages": [{"role": "user", "content": "\xff\xfe"}]}\n', "invalid_utf8"),
    # E42: metadata keys that could reach a JSON path
    "metadata-key": (
        b'{"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}],'
        b' "metadata": {"a\\") OR 1=1 --": 1}}\n',
        ("invalid_metadata_key", "invalid_content"),
    ),
}


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_it_refuses_each_abusive_row_and_stores_nothing(name, alice, upload):
    """D29–D31, E42: each row of the corpus fails the import with its named code."""
    data, codes = CORPUS[name]
    job = job_of(alice, upload(GOOD + data))
    assert job["status"] == "failed", job
    codes = codes if isinstance(codes, tuple) else (codes,)
    found = [e["code"] for e in job["first_errors"]]
    assert set(codes) & set(found), found
    assert_nothing_stored()


def test_it_refuses_an_empty_file_at_the_door(alice, upload):
    """D30: an empty upload is a 400 naming the file, and no job starts."""
    response = upload(b"")
    assert response.status_code == 400
    assert response.json()["errors"][0]["path"] == "file"
    assert not ImportJob.objects.exists()


def test_it_refuses_a_csv_cell_over_the_field_limit(alice, upload):
    """D32: a CSV cell over 131,072 characters is a row error, not a 500."""
    data = b"prompt,completion\nhi," + b"x" * 140_000 + b"\n"
    job = job_of(alice, upload(data, name="data.csv"))
    assert job["status"] == "failed"
    assert "csv_field_too_large" in [e["code"] for e in job["first_errors"]]
    assert_nothing_stored()


def test_it_survives_ten_thousand_csv_columns_and_bad_quoting(alice, upload):
    """D32: 10,000 columns and an unterminated quote end in row errors, never a crash."""
    wide = ",".join(f"c{i}" for i in range(10_000)).encode() + b"\n" + b"1," * 9_999 + b"1\n"
    job = job_of(alice, upload(wide, name="wide.csv"))
    assert job["status"] == "failed"
    job = job_of(alice, upload(b'prompt,completion\n"open,quote\n', name="q.csv"))
    assert job["status"] == "failed"
    assert_nothing_stored()


def test_it_refuses_a_line_over_the_cap_before_parsing_it(alice, upload):
    """D28: one line just over the real 8 MiB cap is refused, memory stays bounded."""
    limit = Limits().max_line_bytes
    line = b'{"messages": [{"role": "user", "content": "' + b"a" * limit + b'"}]}\n'
    before = peak_rss_mib()
    job = job_of(alice, upload(GOOD + line))
    assert job["status"] == "failed"
    assert "line_too_long" in [e["code"] for e in job["first_errors"]]
    assert_nothing_stored()
    # the request body and the file are each ~limit; parsing it would cost several times more
    assert peak_rss_mib() - before < 6 * limit / MIB


def _bomb(expanded: int) -> bytes:
    """gzip of ``expanded`` bytes of newlines (blank lines), built without holding them."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    chunk = b"\n" * MIB
    parts = [packer.compress(chunk) for _ in range(expanded // MIB)]
    return b"".join(parts) + packer.flush()


def test_it_stops_reading_a_gzip_bomb_at_the_cap(alice, upload, settings):
    """D33: a small gzip that expands far past the cap stops at the cap, memory flat."""
    settings.FINETUNEDB_MAX_DECODED_BYTES = 4 * MIB
    # the ratio and blank-line caps (tests/security/test_decode_limits.py) would stop it first
    settings.FINETUNEDB_MAX_COMPRESSION_RATIO = 0
    settings.FINETUNEDB_MAX_BLANK_LINES = 0
    bomb = _bomb(512 * MIB)
    assert len(bomb) < 1 * MIB
    before = peak_rss_mib()
    job = job_of(alice, upload(gzip.compress(GOOD) + bomb, name="bomb.jsonl.gz"))
    assert job["status"] == "failed"
    assert "decompressed_too_large" in [e["code"] for e in job["first_errors"]]
    assert_nothing_stored()
    assert peak_rss_mib() - before < 64


def test_it_answers_413_over_the_upload_cap_and_keeps_no_file(alice, upload, settings):
    """D25: over the cap → 413 JSON, no job, no file left in the upload folders."""
    settings.FINETUNEDB_MAX_UPLOAD_BYTES = 64 * 1024
    before = sorted(
        p for p in settings.DATA_DIR.rglob("*") if p.is_file() and "cache" not in p.parts
    )
    response = upload(GOOD * 2_000)
    assert response.status_code == 413
    assert response.json()["code"] == "too_large"
    assert not ImportJob.objects.exists()
    after = sorted(
        p for p in settings.DATA_DIR.rglob("*") if p.is_file() and "cache" not in p.parts
    )
    assert [p for p in after if p not in before and "sqlite" not in p.name] == []


def test_it_refuses_a_declared_length_over_the_cap_without_reading(client, settings, owner):
    """D26: a Content-Length over the cap is refused before any byte of the body is read."""
    settings.FINETUNEDB_MAX_UPLOAD_BYTES = 1024

    class Unreadable(io.RawIOBase):
        def read(self, *args):
            raise AssertionError("the body was read")

    response = client.generic(
        "POST",
        "/api/v1/datasets/1/imports/",
        b"",
        CONTENT_LENGTH="10000000",
        **{"wsgi.input": Unreadable()},
    )
    assert response.status_code == 413


@pytest.mark.parametrize(
    "parts",
    [
        {f"field{i}": "x" for i in range(2_000)},  # > DATA_UPLOAD_MAX_NUMBER_FIELDS
        {f"file{i}": b"x" for i in range(200)},  # > DATA_UPLOAD_MAX_NUMBER_FILES
        {"file": [b"a", b"b"]},  # several files in the single-file field
    ],
    ids=["2000-fields", "200-files", "two-files-one-field"],
)
def test_it_refuses_multipart_floods(parts, alice, dataset):
    """D34: too many fields, too many files, several files for one field → 400, nothing stored."""
    body = {}
    for key, value in parts.items():
        if isinstance(value, bytes):
            body[key] = named(value, f"{key}.jsonl")
        elif isinstance(value, list):
            body[key] = [named(v, f"{key}{i}.jsonl") for i, v in enumerate(value)]
        else:
            body[key] = value
    response = alice.post(f"/api/v1/datasets/{dataset.pk}/imports/", body, format="multipart")
    assert response.status_code == 400, response.status_code
    assert not ImportJob.objects.exists()


def test_it_caps_the_page_size_of_every_list(alice, dataset, make_example, owner):
    """D35: ``?page_size=1000000`` is capped at the paginator's maximum on every list route."""
    from finetunedb.pagination import CappedPageNumberPagination as Pager

    for i in range(3):
        make_example(dataset, owner, [{"role": "user", "content": f"m{i}"}])
    lists = [
        "/api/v1/datasets/",
        f"/api/v1/datasets/{dataset.pk}/examples/",
        f"/api/v1/datasets/{dataset.pk}/versions/",
        f"/api/v1/datasets/{dataset.pk}/imports/",
        f"/api/v1/datasets/{dataset.pk}/duplicate-clusters/",
    ]
    for path in lists:
        response = alice.get(f"{path}?page_size=1000000")
        assert response.status_code == 200, path
        body = response.json()
        assert "results" in body, f"{path} is not paginated"
    monkey = Pager()
    assert monkey.max_page_size <= 500


@pytest.mark.parametrize(
    "body",
    [
        '{"messages": [{"role": "user", "content": NaN}]}',
        '{"messages": [{"role": "user", "content": "a\\u0000b"}]}',
        '{"messages": [{"role": "user", "content": "\\ud800"}]}',
        '{"messages": [{"role": "user", "content": "q"}], "metadata": {"x\\"--": 1}}',
        "[" * 100_000,
        '{"messages": [{"role": "user", "content": "x"}], "n": ' + "9" * 5000 + "}",
    ],
    ids=["nan", "nul", "surrogate", "metadata-key", "depth-bomb", "huge-int"],
)
def test_it_refuses_the_same_values_in_an_api_example(body, alice, dataset):
    """D29/D31/E42 on the synchronous path: an example body with them → 400, nothing stored."""
    response = alice.post(
        f"/api/v1/datasets/{dataset.pk}/examples/", body, content_type="application/json"
    )
    assert response.status_code == 400, response.content[:200]
    assert Example.objects.count() == 0


def test_it_keeps_an_upload_name_out_of_the_file_system(alice, upload, settings):
    """E48: hostile upload names are metadata only; the stored file is ``<uuid hex>``."""
    names = [
        "../../x.jsonl",
        "..\\..\\x.jsonl",
        "/etc/passwd",
        "a\x00b.jsonl",
        "\u202egnp.jsonl",
        "x" * 300 + ".jsonl",
        "CON",
    ]
    for name in names:
        job = job_of(alice, upload(GOOD, name=name))
        row = ImportJob.objects.get(pk=job["id"])
        assert len(row.stored_name) == 32 and row.stored_name.isalnum()
        assert "/" not in row.original_name and "\\" not in row.original_name
        assert "\x00" not in row.original_name
    for path in settings.DATA_DIR.rglob("*"):
        assert "passwd" not in path.name and ".." not in path.name
