"""Issue 14 items 3 and 4: an upload cannot decode past the team's quota or the server's caps.

A small file that decodes to a lot (Parquet dictionaries, gzip) is counted by what it decodes to,
row by row and in total; the import stops at min(file cap, team's room), fails whole whatever
its mode, names the line, the limit and what to do, and leaves nothing: no example, no staging
file. Two imports of one team cannot together pass the quota: the publish measures again.
"""

import gzip
import io
import zlib

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from datasets_app import storage
from datasets_app.models import Example, ImportJob
from datasets_app.services.imports import admission as import_admission
from finetunedb.teams.quota import team_storage_usage

pytestmark = pytest.mark.django_db

MIB = 1024 * 1024
GOOD = (
    b'{"messages": [{"role": "user", "content": "q%d"}, {"role": "assistant", "content": "a"}]}\n'
)


def good(n: int) -> bytes:
    return b"".join(GOOD % i for i in range(n))


def named(data: bytes, name: str) -> io.BytesIO:
    handle = io.BytesIO(data)
    handle.name = name
    return handle


@pytest.fixture
def alice(owner, api_for):
    return api_for(owner)


@pytest.fixture
def upload(alice, dataset, django_capture_on_commit_callbacks):
    def post(data: bytes, name="data.jsonl", **fields):
        with django_capture_on_commit_callbacks(execute=True):
            response = alice.post(
                f"/api/v1/datasets/{dataset.pk}/imports/",
                {"file": named(data, name), **fields},
                format="multipart",
            )
        assert response.status_code == 202, response.content
        return ImportJob.objects.get(pk=response.json()["id"])

    return post


@pytest.fixture
def room(dataset, settings):
    """``set(n)``: the team's quota becomes what it uses now plus ``n`` bytes."""

    def set_room(extra: int, upload_bytes: int = 0):
        used = team_storage_usage(team_id=dataset.team_id).total
        settings.FINETUNEDB_TEAM_STORAGE_QUOTA_BYTES = used + upload_bytes + extra

    return set_room


def assert_failed_and_nothing_stored(job: ImportJob, code: str, *words: str) -> None:
    job.refresh_from_db()
    assert job.status == "failed", job.failure_reason
    assert code in [e["code"] for e in job.first_errors], job.first_errors
    assert job.failure_reason.startswith("Line "), job.failure_reason
    for word in words:
        assert word in job.failure_reason, job.failure_reason
    assert Example.objects.count() == 0
    assert list(storage.folder(storage.STAGING).glob("*.jsonl")) == []


def dictionary_parquet(rows: int, value_bytes: int) -> bytes:
    prompt = pa.array(["x" * value_bytes] * rows).dictionary_encode()
    table = pa.table({"prompt": prompt, "completion": pa.array([f"c{i}" for i in range(rows)])})
    out = io.BytesIO()
    pq.write_table(table, out, compression="zstd")
    return out.getvalue()


def test_it_stops_a_small_parquet_of_dictionary_strings_at_the_team_quota(upload, room):
    """The reported case: a few KB of Parquet holding 1 MiB strings by reference."""
    data = dictionary_parquet(128, MIB)  # 128 MiB of rows
    assert len(data) < 8 * 1024
    room(8 * MIB, upload_bytes=len(data))
    job = upload(data, name="amplified.parquet", mode="skip_invalid")
    assert_failed_and_nothing_stored(
        job, "quota_exceeded", "storage quota", "FINETUNEDB_TEAM_STORAGE_QUOTA_BYTES"
    )


def test_it_stops_a_parquet_at_the_per_file_decoded_cap(upload, settings):
    settings.FINETUNEDB_MAX_DECODED_BYTES = 4 * MIB
    job = upload(dictionary_parquet(64, MIB), name="amplified.parquet")
    assert_failed_and_nothing_stored(job, "decoded_too_large", "FINETUNEDB_MAX_DECODED_BYTES")


def test_it_stops_a_gzip_json_array_of_huge_strings_at_the_team_quota(upload, room, settings):
    settings.FINETUNEDB_MAX_COMPRESSION_RATIO = 0  # off: the quota alone must stop it
    element = b'{"prompt": "' + b"y" * 500_000 + b'", "completion": "c%d"}'
    data = gzip.compress(b"[" + b",\n".join(element % i for i in range(200)) + b"]")
    room(4 * MIB, upload_bytes=len(data))
    job = upload(data, name="strings.json.gz", mode="skip_invalid")
    assert_failed_and_nothing_stored(job, "quota_exceeded", "nothing was imported")


def test_it_refuses_a_json_array_element_with_a_huge_string(upload, settings):
    settings.FINETUNEDB_MAX_DECODED_ROW_BYTES = 64 * 1024
    huge = b'{"prompt": "' + b"z" * 100_000 + b'", "completion": "c"}'
    data = b'[{"prompt": "a", "completion": "b"},\n' + huge + b"]"
    job = upload(data, name="huge.json")
    job.refresh_from_db()
    assert job.status == "failed" and Example.objects.count() == 0
    assert job.first_errors[0]["line"] == 2 and job.first_errors[0]["code"] == "line_too_long"
    assert "FINETUNEDB_MAX_DECODED_ROW_BYTES" in job.first_errors[0]["message"]


def test_it_refuses_a_csv_with_a_huge_cell_over_many_short_lines(upload, settings):
    settings.FINETUNEDB_MAX_DECODED_ROW_BYTES = 64 * 1024
    cell = "\n".join(["w" * 99] * 1000)  # 100,000 characters; every line is short
    data = f'prompt,completion\nhi,ok\nhi,"{cell}"\n'.encode()
    job = upload(data, name="huge.csv", mode="skip_invalid")
    job.refresh_from_db()
    assert job.status == "succeeded" and job.examples_created == 1  # the good row only
    assert job.first_errors[0]["line"] == 3 and job.first_errors[0]["code"] == "line_too_long"
    assert "65536 bytes" in job.first_errors[0]["message"]
    assert Example.objects.count() == 1


def _newline_bomb(expanded: int) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    parts = [packer.compress(b"\n" * MIB) for _ in range(expanded // MIB)]
    return b"".join(parts) + packer.flush()


def test_it_refuses_a_gzip_bomb_of_newlines_by_its_blank_lines(upload, settings):
    """3 MB → 3 GiB of newlines in the report: here 256 MiB, stopped within a second."""
    settings.FINETUNEDB_MAX_COMPRESSION_RATIO = 0  # off: the blank lines alone must stop it
    bomb = _newline_bomb(256 * MIB)
    assert len(bomb) < MIB
    job = upload(gzip.compress(good(3)) + bomb, name="bomb.jsonl.gz", mode="skip_invalid")
    assert_failed_and_nothing_stored(job, "too_many_blank_lines", "FINETUNEDB_MAX_BLANK_LINES")


def test_it_refuses_a_gzip_bomb_of_newlines_by_its_ratio(upload, settings):
    settings.FINETUNEDB_MAX_BLANK_LINES = 0  # off: the ratio alone must stop it
    job = upload(gzip.compress(good(3)) + _newline_bomb(256 * MIB), name="bomb.jsonl.gz")
    assert_failed_and_nothing_stored(
        job, "compression_ratio_too_high", "FINETUNEDB_MAX_COMPRESSION_RATIO"
    )
    assert job.bytes_processed < 2 * MIB  # it stopped early, not at the 256 MiB end


def test_it_keeps_none_of_the_good_rows_read_before_a_stop(upload, settings):
    settings.FINETUNEDB_MAX_DECODED_BYTES = 64 * 1024
    job = upload(good(5000), mode="skip_invalid")
    assert_failed_and_nothing_stored(job, "decoded_too_large", "Split the file")


def test_it_measures_again_when_publishing_so_side_by_side_imports_cannot_pass_the_quota(
    upload, room, monkeypatch
):
    # Stands for another import of the team that used the room while this one was reading:
    # the reader was told there was room; the publish, measuring with the rows in, says no.
    from datasets_app.formats import Limits

    monkeypatch.setattr(import_admission, "import_limits", lambda team_id: Limits())
    data = good(200)
    room(len(data) // 2, upload_bytes=len(data))
    job = upload(data)
    job.refresh_from_db()
    assert job.status == "failed", job.failure_reason
    assert "over its storage quota" in job.failure_reason
    assert "FINETUNEDB_TEAM_STORAGE_QUOTA_BYTES" in job.failure_reason
    assert Example.objects.count() == 0


def test_it_imports_a_file_that_fits_the_room(upload, room):
    data = good(200)
    room(4 * len(data), upload_bytes=len(data))
    job = upload(data)
    job.refresh_from_db()
    assert job.status == "succeeded", job.failure_reason
    assert job.examples_created == 200
