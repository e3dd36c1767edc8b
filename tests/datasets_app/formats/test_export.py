import gzip
import io

import pytest
from hypothesis import HealthCheck, given, settings

from datasets_app.canonical import content_hash
from datasets_app.formats import (
    ExportRow,
    ParsedRow,
    WriteError,
    iter_rows,
    unrepresentable_reason,
    write_export,
)

from .strategies import conversations

PLAIN = {
    "messages": [
        {"role": "user", "content": 'Hi "you"\n🎉'},
        {"role": "assistant", "content": "Hello"},
    ]
}
WITH_SYSTEM = {"messages": [{"role": "system", "content": "Be kind."}, *PLAIN["messages"]]}
TOOLS = {
    "messages": [
        {"role": "user", "content": "Weather?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_0",
                    "type": "function",
                    "function": {"name": "w", "arguments": '{"c":"Paris"}'},
                }
            ],
        },
        {"role": "tool", "content": "sunny", "tool_call_id": "call_0"},
        {"role": "assistant", "content": "Sunny."},
    ],
    "tools": [{"type": "function", "function": {"name": "w", "parameters": {"type": "object"}}}],
}
PREFERENCE = {**PLAIN, "metadata": {"rejected": [{"role": "assistant", "content": "Go away"}]}}


def hashes(contents):
    return [content_hash(c["messages"], c.get("tools")) for c in contents]


def round_trip(contents, fmt, compress=False):
    data = b"".join(
        write_export(
            [ExportRow(c, i) for i, c in enumerate(contents)], format=fmt, compress=compress
        )
    )
    items = list(iter_rows(io.BytesIO(data)))
    assert all(isinstance(i, ParsedRow) for i in items), items
    return data, [i.content for i in items]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(conversations())
def test_it_round_trips_openai_jsonl_to_the_same_hash(content):
    _, back = round_trip([content], "openai")
    assert hashes(back) == hashes([content])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(conversations())
def test_it_round_trips_parquet_to_the_same_hash_and_metadata(content):
    _, back = round_trip([content], "parquet")
    assert hashes(back) == hashes([content])
    assert back[0].get("metadata") == content.get("metadata")


@settings(max_examples=40, deadline=None)
@given(conversations())
def test_it_round_trips_sharegpt_or_says_why_not(content):
    reason = unrepresentable_reason(content, "sharegpt")
    if reason is None:
        _, back = round_trip([content], "sharegpt")
        assert hashes(back) == hashes([content])
    else:
        with pytest.raises(WriteError):
            b"".join(write_export([content], format="sharegpt"))


@pytest.mark.parametrize(
    ("fmt", "content"),
    [
        ("prompt_completion", PLAIN),
        ("alpaca", WITH_SYSTEM),
        ("alpaca", {"messages": WITH_SYSTEM["messages"] + PLAIN["messages"]}),
        ("sharegpt", TOOLS),
        ("sharegpt", WITH_SYSTEM),
        ("preference", PREFERENCE),
        ("openai", TOOLS),
        ("parquet", TOOLS),
    ],
)
def test_it_round_trips_each_format_it_can_hold(fmt, content):
    for compress in (False, True):
        _, back = round_trip([content], fmt, compress)
        assert hashes(back) == hashes([content])
    if fmt == "preference":
        assert back[0]["metadata"]["rejected"] == PREFERENCE["metadata"]["rejected"]


@pytest.mark.parametrize(
    ("fmt", "content"),
    [
        ("alpaca", TOOLS),
        ("prompt_completion", WITH_SYSTEM),
        ("prompt_completion", TOOLS),
        ("preference", PLAIN),
        (
            "sharegpt",
            {
                "messages": [
                    {"role": "user", "content": "x"},
                    {"role": "assistant", "content": "y", "weight": 0},
                ]
            },
        ),
    ],
)
def test_it_refuses_rows_a_format_cannot_hold(fmt, content):
    assert unrepresentable_reason(content, fmt)
    with pytest.raises(WriteError) as caught:
        b"".join(write_export([ExportRow(content, 42)], format=fmt))
    assert caught.value.row_id == 42
    export = write_export(
        [ExportRow(content, 42), ExportRow(PREFERENCE, 43)], format=fmt, on_unrepresentable="skip"
    )
    data = b"".join(export)
    assert [s[0] for s in export.skipped] == [42]
    assert export.written == 1 and data


@pytest.mark.parametrize("fmt", ["openai", "alpaca", "sharegpt", "parquet"])
def test_it_writes_byte_identical_output_every_time(fmt):
    rows = [ExportRow(WITH_SYSTEM, 1, "train"), ExportRow(PLAIN, 2, "test")] * 3
    first = b"".join(write_export(rows, format=fmt, compress=True))
    second = b"".join(write_export(list(rows), format=fmt, compress=True))
    assert first == second
    assert first[4:8] == b"\x00\x00\x00\x00"  # gzip mtime
    assert gzip.decompress(first)


def test_it_streams_in_bounded_chunks():
    rows = (ExportRow(PLAIN, i) for i in range(20_000))
    chunks = list(write_export(rows, format="openai"))
    assert len(chunks) > 1 and max(len(c) for c in chunks) < 200_000
    parquet_chunks = list(
        write_export((ExportRow(PLAIN, i) for i in range(12_000)), format="parquet")
    )
    assert len(parquet_chunks) >= 3


def test_it_writes_metadata_only_when_asked():
    row = {**PLAIN, "metadata": {"source": "x"}}
    assert b"metadata" not in b"".join(write_export([row]))
    assert b'"source":"x"' in b"".join(write_export([row], include_metadata=True))
