import gzip
import io
import resource
import zlib

from datasets_app.formats import Limits, RowError, iter_rows
from datasets_app.formats.source import iter_lines, open_source


def bomb(expanded: int) -> bytes:
    deflate = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = b"\n" * (1024 * 1024)
    parts = [deflate.compress(block) for _ in range(expanded // len(block))]
    return b"".join(parts) + deflate.flush()


def test_it_stops_a_gzip_bomb_at_the_cap_with_bounded_memory():
    data = bomb(96 * 1024 * 1024)  # 96 MiB of newlines in about 100 KB
    assert len(data) < 1024 * 1024
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # the ratio and blank-line caps off: this test is about the size cap alone
    limits = Limits(
        max_decompressed_bytes=8 * 1024 * 1024, max_compression_ratio=0, max_blank_lines=0
    )
    items = list(iter_rows(io.BytesIO(data), limits=limits))
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert [(i.code, type(i)) for i in items] == [("decompressed_too_large", RowError)]
    assert grown_kib < 64 * 1024


def test_it_counts_bytes_taken_from_the_upload():
    payload = gzip.compress(b'{"prompt": "a", "completion": "b"}\n' * 1000)
    reader = iter_rows(io.BytesIO(payload))
    rows = list(reader)
    assert len(rows) == 1000
    assert reader.bytes_read == len(payload)


def test_it_splits_lines_and_flags_the_long_one():
    counter, buffered, compressed = open_source(io.BytesIO(b"ab\n" + b"x" * 50 + b"\ncd"), 10**9)
    assert not compressed
    assert list(iter_lines(buffered, 10)) == [(1, b"ab\n"), (2, None), (3, b"cd")]


def test_it_reads_multi_member_gzip():
    data = gzip.compress(b'{"prompt": "a", "completion": "b"}\n') * 3
    assert len(list(iter_rows(io.BytesIO(data)))) == 3
