"""Decode limits of the reader (issue 14, items 3 and 4): what a file decodes to is counted, row by
row and in total, against the row cap, the file cap and the team's room; gzip is held to a ratio
and blank lines to a count. Each stopping error is the last item and names its limit."""

import gzip
import io
import zlib

import pyarrow as pa
import pyarrow.parquet as pq

from datasets_app.formats import STOP_CODES, Limits, ParsedRow, RowError, iter_rows
from datasets_app.formats.containers import PARQUET_BATCH_BYTES

MIB = 1024 * 1024
ROW = b'{"prompt": "p%d", "completion": "c"}\n'


def rows(n: int, start: int = 0) -> bytes:
    return b"".join(ROW % i for i in range(start, start + n))


def read(data: bytes, **limits) -> list:
    return list(iter_rows(io.BytesIO(data), limits=Limits(**limits)))


def errors(items) -> list[tuple[int, str]]:
    return [(i.line, i.code) for i in items if type(i) is RowError]


def dictionary_parquet(rows: int, value_bytes: int, compression="zstd") -> bytes:
    """``rows`` rows whose prompt is one ``value_bytes`` string, stored once (dictionary)."""
    prompt = pa.array(["x" * value_bytes] * rows).dictionary_encode()
    table = pa.table({"prompt": prompt, "completion": pa.array(["c"] * rows)})
    out = io.BytesIO()
    pq.write_table(table, out, compression=compression)
    return out.getvalue()


def test_it_stops_a_dictionary_encoded_parquet_at_the_quota_room():
    data = dictionary_parquet(128, MIB)  # 128 MiB of rows in a file of a few KB
    assert len(data) < 8 * 1024
    items = read(data, quota_room_bytes=5 * MIB)
    assert sum(type(i) is ParsedRow for i in items) == 4
    assert errors(items) == [(5, "quota_exceeded")]
    assert "5,242,880 bytes left" in items[-1].message
    assert "FINETUNEDB_TEAM_STORAGE_QUOTA_BYTES" in items[-1].message


def test_it_stops_a_dictionary_encoded_parquet_at_the_file_cap():
    items = read(dictionary_parquet(128, MIB), max_decoded_bytes=3 * MIB)
    assert errors(items) == [(3, "decoded_too_large")]
    assert "FINETUNEDB_MAX_DECODED_BYTES" in items[-1].message


def test_it_refuses_a_parquet_row_over_the_row_cap_without_materialising_it():
    # one batch decodes past PARQUET_BATCH_BYTES, so rows are measured one by one
    value = 2 * MIB
    count = PARQUET_BATCH_BYTES // value + 4
    items = read(dictionary_parquet(count, value), max_line_bytes=MIB)
    assert errors(items) == [(n, "line_too_long") for n in range(1, count + 1)]
    assert "FINETUNEDB_MAX_DECODED_ROW_BYTES" in items[0].message


def test_it_refuses_a_parquet_from_its_footer_when_the_pages_alone_pass_the_room():
    table = pa.table({"prompt": [f"{i:08d}" * 1000 for i in range(200)], "completion": ["c"] * 200})
    out = io.BytesIO()
    pq.write_table(table, out, use_dictionary=False, compression="zstd")
    items = read(out.getvalue(), quota_room_bytes=100_000)
    assert [(i.line, i.code) for i in items] == [(1, "quota_exceeded")]


def test_it_still_reads_an_ordinary_dictionary_encoded_parquet():
    table = pa.table(
        {
            "prompt": pa.array([f"question {i % 50}" for i in range(3000)]).dictionary_encode(),
            "completion": [f"answer {i}" for i in range(3000)],
        }
    )
    out = io.BytesIO()
    pq.write_table(table, out)
    items = read(out.getvalue(), quota_room_bytes=10 * MIB)
    assert len(items) == 3000 and all(type(i) is ParsedRow for i in items)


def test_it_stops_text_at_the_file_cap_and_names_the_line():
    items = read(rows(100_000), max_decoded_bytes=2 * MIB)
    assert items[-1].code == "decoded_too_large"
    assert sum(type(i) is RowError for i in items) == 1
    # the count runs a read buffer ahead of the line reached: the stop is within one buffer
    assert 0 < items[-1].line <= 2 * MIB // len(ROW % 0) + 2


def test_it_stops_a_gzip_json_array_of_large_strings_at_the_quota_room():
    element = b'{"prompt": "' + b"y" * 200_000 + b'", "completion": "c"}'
    data = gzip.compress(b"[" + b",\n".join([element] * 300) + b"]")
    assert len(data) < 2 * MIB
    items = read(data, quota_room_bytes=10 * MIB, max_compression_ratio=0)
    assert items[-1].code == "quota_exceeded"
    assert sum(type(i) is ParsedRow for i in items) < 60


def test_it_refuses_a_json_array_element_with_a_huge_string():
    huge = b'{"prompt": "' + b"z" * 70_000 + b'", "completion": "c"}'
    data = (
        b'[{"prompt": "a", "completion": "b"},\n' + huge + b',\n{"prompt": "d", "completion": "e"}]'
    )
    items = read(data, max_line_bytes=64 * 1024)
    assert errors(items) == [(2, "line_too_long")]
    assert sum(type(i) is ParsedRow for i in items) == 2


def test_it_refuses_a_csv_record_whose_quoted_cell_spans_many_short_lines():
    cell = "\n".join(["w" * 99] * 100)  # 10,000 characters, no line over 100 bytes
    data = f'prompt,completion\nhi,ok\nhi,"{cell}"\nbye,ok\n'.encode()
    items = read(data, max_line_bytes=4096)
    assert errors(items) == [(3, "line_too_long")]
    assert "4096 bytes" in items[-1].message


def test_it_refuses_a_csv_cell_over_the_row_cap_on_one_line():
    data = b"prompt,completion\nhi," + b"x" * 5000 + b"\n"
    assert errors(read(data, max_line_bytes=4096)) == [(2, "line_too_long")]


def _newline_bomb(expanded: int) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    parts = [packer.compress(b"\n" * MIB) for _ in range(expanded // MIB)]
    return b"".join(parts) + packer.flush()


def test_it_refuses_gzip_that_expands_past_the_ratio():
    bomb = _newline_bomb(256 * MIB)  # about 1,000 to 1
    items = read(gzip.compress(rows(3)) + bomb, max_blank_lines=0)
    assert errors(items) == [(items[-1].line, "compression_ratio_too_high")]
    assert (
        "100 times" in items[-1].message and "FINETUNEDB_MAX_COMPRESSION_RATIO" in items[-1].message
    )


def test_it_reads_well_compressed_gzip_under_the_ratio():
    data = gzip.compress(rows(50_000))  # about 25 to 1
    assert len(read(data)) == 50_000


def test_it_stops_at_too_many_blank_jsonl_lines():
    items = read(rows(2) + b"\n" * 500 + b"  \r\n" * 600 + rows(1, 9), max_blank_lines=1000)
    assert errors(items) == [(1003, "too_many_blank_lines")]
    assert "1,000 blank lines" in items[-1].message


def test_it_stops_at_too_many_blank_json_array_lines():
    element = b'{"prompt": "a", "completion": "b"}'
    data = b"[\n" + element + b",\n" + b"\n" * 50 + element + b"\n]"
    assert errors(read(data, max_blank_lines=40))[-1][1] == "too_many_blank_lines"
    assert len(read(data, max_blank_lines=60)) == 2


def test_it_stops_at_too_many_blank_csv_records():
    data = b"prompt,completion\n" + b",\n" * 30 + b"a,b\n"
    assert errors(read(data, max_blank_lines=20)) == [(22, "too_many_blank_lines")]
    assert len(read(data, max_blank_lines=40)) == 1


def test_it_counts_every_stopping_code_as_final():
    assert {"decoded_too_large", "quota_exceeded", "compression_ratio_too_high"} <= STOP_CODES
    assert {"too_many_blank_lines", "decompressed_too_large"} <= STOP_CODES
    assert "line_too_long" not in STOP_CODES
