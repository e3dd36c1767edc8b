"""Every refusal code of the JSONL path: fed as bytes, asserted by line and code, nothing else valid."""

import gzip
import io

import pytest

from datasets_app.formats import Limits, ParsedRow, RowError, iter_rows

GOOD = (
    b'{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]}\n'
)


def read(data: bytes, **kwargs):
    return list(iter_rows(io.BytesIO(data), format=kwargs.pop("format", "openai"), **kwargs))


CASES = [
    (b"{not json}\n", "invalid_json"),
    (b"[1, 2]\n", "not_an_object"),
    (b'"text"\n', "not_an_object"),
    (b'{"messages": "\xff\xfe"}\n', "invalid_utf8"),
    (b'{"a": NaN}\n', "nan_not_allowed"),
    (b'{"a": Infinity}\n', "nan_not_allowed"),
    (b'{"a": -Infinity}\n', "nan_not_allowed"),
    (b'{"a": 1e999}\n', "nan_not_allowed"),
    (b'{"messages": [], "messages": []}\n', "duplicate_key"),
    (b'{"messages": [{"role": "user", "role": "system", "content": "x"}]}\n', "duplicate_key"),
    (b'{"a": "\\ud800"}\n', "lone_surrogate"),
    (b'{"a": "\\udc00 x"}\n', "lone_surrogate"),
    (b'{"a": "x\\u0000y"}\n', "nul_character"),
    (b'{"a": "x\x00y"}\n', "nul_character"),
    (b'{"a": ' + b"[" * 70 + b"]" * 70 + b"}\n", "too_deep"),
    (b'{"prompt": "x"}\n', "wrong_format"),
    (b'{"messages": [{"role": "wizard", "content": "x"}]}\n', "invalid_content"),
    (b'{"messages": [{"role": "user", "content": "x"}], "bad key": 1}\n', "invalid_metadata_key"),
    (
        b'{"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": "x"}]}]}\n',
        "unsupported_part",
    ),
]


@pytest.mark.parametrize(("line", "code"), CASES)
def test_it_reports_the_bad_line_with_its_code_and_keeps_the_good_ones(line, code):
    items = read(GOOD + line + GOOD)
    errors = [i for i in items if isinstance(i, RowError)]
    assert [(e.line, e.code) for e in errors] == [(2, code)]
    assert [i.line for i in items if isinstance(i, ParsedRow)] == [1, 3]
    assert errors[0].message


def test_it_names_the_duplicated_key():
    [error] = read(b'{"messages": [], "x": 1, "x": 2}\n')
    assert error.code == "duplicate_key" and "'x'" in error.message


def test_it_does_not_mistake_colons_in_text_for_duplicates():
    line = b'{"messages": [{"role": "user", "content": "a: b \\u003a c \\\\u003a"}, {"role": "assistant", "content": "k:v"}]}\n'
    [row] = read(line)
    assert row.content["messages"][0]["content"] == "a: b : c \\u003a"


def test_it_refuses_a_line_over_the_cap_before_parsing_it():
    long = b'{"messages": "' + b"x" * 5000 + b'"}\n'
    items = read(GOOD + long + GOOD, limits=Limits(max_line_bytes=1000))
    assert [(type(i).__name__, i.line) for i in items] == [
        ("ParsedRow", 1),
        ("RowError", 2),
        ("ParsedRow", 3),
    ]
    assert items[1].code == "line_too_long"


def test_it_survives_a_million_deep_nesting_without_recursion_error():
    items = read(GOOD + b"[" * 1_000_000 + b"\n" + GOOD)
    assert [(getattr(i, "code", None), i.line) for i in items] == [
        (None, 1),
        ("too_deep", 2),
        (None, 3),
    ]


def test_it_survives_a_million_deep_array_file():
    items = read(b"[" * 1_000_000, container="json")
    assert items[0].code == "too_deep"
    assert all(isinstance(i, RowError) for i in items)


def test_it_accepts_a_bom_and_crlf():
    items = read(b"\xef\xbb\xbf" + GOOD.replace(b"\n", b"\r\n") * 2)
    assert [i.line for i in items if isinstance(i, ParsedRow)] == [1, 2]


def test_it_skips_blank_lines_but_counts_them():
    items = read(GOOD + b"\n  \r\n" + GOOD)
    assert [i.line for i in items] == [1, 4]


def test_it_stops_at_max_rows():
    items = read(GOOD * 5, limits=Limits(max_rows=3))
    assert [getattr(i, "code", "ok") for i in items] == ["ok", "ok", "ok", "too_many_rows"]


def test_it_reads_gzip_by_magic_bytes():
    items = read(gzip.compress(GOOD * 3))
    assert len([i for i in items if isinstance(i, ParsedRow)]) == 3


def test_it_reports_a_truncated_gzip():
    data = gzip.compress(GOOD * 200)[:-30]
    items = read(data)
    assert items[-1].code == "invalid_gzip"
