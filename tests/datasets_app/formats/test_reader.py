import csv
import io
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from datasets_app.canonical import validate_content
from datasets_app.formats import FORMATS, Limits, ParsedRow, RowError, detect_format, iter_rows

KEYS = [
    "messages",
    "role",
    "content",
    "conversations",
    "from",
    "value",
    "tools",
    "chosen",
    "rejected",
    "prompt",
    "instruction",
    "output",
    "input",
    "history",
    "preferred_output",
    "non_preferred_output",
    "type",
    "text",
    "metadata",
    "tool_calls",
    "function_call",
    "name",
    "arguments",
    "loss_weight",
    "weight",
]
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "formats"


def read_file(name: str, **kwargs):
    with open(FIXTURES / name, "rb") as fh:
        reader = iter_rows(fh, **kwargs)
        return reader, list(reader)


@pytest.mark.parametrize(
    ("name", "fmt", "container", "rows"),
    [
        ("alpaca.json", "alpaca", "json", 3),
        ("alpaca_response.json", "alpaca", "json", 2),
        ("sharegpt_tools.json", "sharegpt", "json", 2),
        ("sharegpt_preference.json", "sharegpt_preference", "json", 2),
        ("typed_parts.jsonl", "openai", "jsonl", 3),
        ("reasoning_tools.jsonl", "openai", "jsonl", 2),
        ("question_answer.jsonl", "question_answer", "jsonl", 3),
        ("self_instruct.jsonl", "self_instruct", "jsonl", 2),
        ("openai.jsonl", "openai", "jsonl", 3),
        ("openai_preference.jsonl", "openai_preference", "jsonl", 1),
        ("prompt_completion.jsonl", "prompt_completion", "jsonl", 2),
    ],
)
def test_it_detects_and_maps_every_fixture_to_valid_content(name, fmt, container, rows):
    reader, items = read_file(name)
    assert (reader.container, reader.format) == (container, fmt)
    assert all(isinstance(i, ParsedRow) for i in items), items
    assert len(items) == rows
    for item in items:
        assert item.source_format == fmt
        assert validate_content(item.content) == []


def test_it_maps_sharegpt_tool_calls_and_links_their_results():
    _, items = read_file("sharegpt_tools.json")
    messages = items[0].content["messages"]
    call = next(m for m in messages if m.get("tool_calls"))
    result = messages[messages.index(call) + 1]
    assert call["content"] is None and call["tool_calls"][0]["function"]["name"] == "search_recipes"
    assert result == {**result, "role": "tool", "tool_call_id": call["tool_calls"][0]["id"]}
    assert items[0].content["tools"][0]["type"] == "function"


def test_it_keeps_reasoning_parts_in_metadata_and_joins_text():
    _, items = read_file("reasoning_tools.jsonl")
    content = items[0].content
    assert content["metadata"]["reasoning"][0]["text"]
    assert all(type(m["content"]) in (str, type(None)) for m in content["messages"])


def test_it_maps_loss_weights_to_canonical_weights():
    row = b'{"messages": [{"role": "user", "content": "q", "loss_weight": 0.0}, {"role": "assistant", "content": "a", "loss_weight": 0.0}, {"role": "user", "content": "q2"}, {"role": "assistant", "content": "b", "loss_weight": 1.0}]}\n'
    [item] = list(iter_rows(io.BytesIO(row)))
    assert [m.get("weight") for m in item.content["messages"]] == [None, 0, None, None]


def test_it_maps_legacy_function_calls_and_unknown_fields_to_metadata():
    _, items = read_file("openai.jsonl")
    assert items[0].content["metadata"] == {"source": "handwritten"}
    legacy = items[2].content
    assert legacy["tools"][0]["function"]["name"] == "lookup"
    assert legacy["messages"][1]["tool_calls"][0]["id"] == "call_0"
    assert legacy["messages"][2] == {
        "role": "tool",
        "name": "lookup",
        "content": "found",
        "tool_call_id": "call_0",
    }


def test_it_keeps_the_rejected_answer_of_preference_rows():
    _, items = read_file("sharegpt_preference.json")
    content = items[0].content
    assert content["messages"][-1]["role"] == "assistant"
    assert content["metadata"]["rejected"][0]["role"] == "assistant"
    _, [dpo] = read_file("openai_preference.jsonl")
    assert dpo.content["messages"][-1]["content"] == "Paris."
    assert dpo.content["metadata"]["rejected"] == [{"role": "assistant", "content": "Lyon."}]


def test_it_yields_one_row_per_self_instruct_instance():
    row = b'{"instruction": "Add", "instances": [{"input": "1+1", "output": "2"}, {"input": "", "output": "0"}], "id": "t1"}\n'
    items = list(iter_rows(io.BytesIO(row)))
    assert [
        (i.line, i.content["messages"][0]["content"], i.content["metadata"]) for i in items
    ] == [
        (1, "Add\n1+1", {"id": "t1", "instance": 0}),
        (1, "Add", {"id": "t1", "instance": 1}),
    ]


def test_it_reads_csv_with_a_column_mapping_and_multiline_cells():
    mapping = {"prompt": "question", "completion": "reply", "system": "sys"}
    reader, items = read_file("mapped.csv", column_mapping=mapping)
    assert (reader.container, reader.format) == ("csv", "prompt_completion")
    assert [i.line for i in items] == [2, 3]
    assert items[0].content == {
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "What is 2+2?"},
            {"role": "assistant", "content": "4"},
        ],
        "metadata": {"note": "arith"},
    }
    assert items[1].content["messages"][0]["content"] == "Multi\nline, with comma"


def test_it_reports_a_csv_cell_over_the_field_limit():
    data = b"prompt,completion\nshort,ok\n" + b'"' + b"x" * 500 + b'",ok\n'
    try:
        items = list(iter_rows(io.BytesIO(data), limits=Limits(csv_field_limit=100)))
    finally:
        csv.field_size_limit(131_072)
    assert [(getattr(i, "code", None), i.line) for i in items] == [
        (None, 2),
        ("csv_field_too_large", 3),
    ]


def test_it_reports_a_mapping_to_a_missing_column():
    [error] = list(iter_rows(io.BytesIO(b"a,b\n1,2\n"), column_mapping={"prompt": "nope"}))
    assert (error.line, error.code) == (1, "unknown_format")


def test_it_reads_parquet_with_a_json_messages_column():
    table = pa.table(
        {
            "messages": [
                '[{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]'
            ],
            "tag": ["x"],
        }
    )
    sink = io.BytesIO()
    pq.write_table(table, sink)
    sink.seek(0)
    reader = iter_rows(sink)
    [item] = list(reader)
    assert reader.container == "parquet"
    assert item.content["metadata"] == {"tag": "x"}
    assert item.content["messages"][1] == {"role": "assistant", "content": "yo"}


def test_it_reports_unknown_rows_and_unknown_files():
    [error] = list(iter_rows(io.BytesIO(b'{"foo": 1}\n')))
    assert (error.code, error.line) == ("unknown_format", 1)
    [error] = list(iter_rows(io.BytesIO(b"\x00\x01binary")))
    assert error.code == "unknown_format"
    [error] = list(iter_rows(io.BytesIO(b"")))
    assert error.code == "empty_file"


def test_it_detects_containers_from_content_not_name():
    array = b'[{"question": "q", "answer": "a"},\n {"question": "q2", "answer": "a2"}]'
    assert detect_format(io.BytesIO(array)) == ("json", False, "question_answer")
    lines = b'{"question": "q", "answer": "a"}\n'
    assert detect_format(io.BytesIO(lines)) == ("jsonl", False, "question_answer")


def test_it_reports_array_element_errors_with_their_line():
    array = b'[\n{"question": "q", "answer": "a"},\n{"question": NaN},\n7,\n{"question": "q", "answer": "b"}\n]'
    items = list(iter_rows(io.BytesIO(array)))
    assert [(getattr(i, "code", None), i.line) for i in items] == [
        (None, 2),
        ("nan_not_allowed", 3),
        ("not_an_object", 4),
        (None, 5),
    ]


def test_it_reports_a_broken_array_and_stops():
    items = list(iter_rows(io.BytesIO(b'[{"question": "q", "answer": "a"}, {"question": ')))
    assert [getattr(i, "code", None) for i in items] == [None, "invalid_json"]


def test_it_refuses_an_unknown_format_name():
    with pytest.raises(ValueError, match="Unknown format"):
        iter_rows(io.BytesIO(b""), format="xml")
    assert "openai" in FORMATS and "auto" in FORMATS


def test_it_honours_an_explicit_format():
    items = list(iter_rows(io.BytesIO(b'{"question": "q", "answer": "a"}\n'), format="alpaca"))
    assert [(i.code, i.line) for i in items] == [("wrong_format", 1)]
    assert isinstance(items[0], RowError)


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-3, 3)
    | st.text(max_size=5)
    | st.sampled_from(["user", "gpt", "function_call", "text", "tool_call", '{"name": "f"}']),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(KEYS), inner, max_size=4)
    ),
    max_leaves=15,
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(KEYS), JSON, min_size=1, max_size=5))
def test_it_never_crashes_on_odd_rows_of_any_format(row):
    for fmt in (
        "auto",
        "openai",
        "sharegpt",
        "alpaca",
        "openai_preference",
        "prompt_chosen_rejected",
    ):
        items = list(iter_rows(io.BytesIO(json.dumps(row).encode()), format=fmt))
        assert items and all(isinstance(i, (ParsedRow, RowError)) for i in items)
        for item in items:
            if isinstance(item, ParsedRow):
                assert validate_content(item.content) == []


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_it_never_crashes_on_arbitrary_bytes(data):
    items = list(iter_rows(io.BytesIO(data)))
    assert all(isinstance(i, (ParsedRow, RowError)) for i in items)


SAFE_TEXT = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=8
)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.dictionaries(
            SAFE_TEXT,
            SAFE_TEXT | st.lists(st.integers(-(2**63), 2**64 - 1), max_size=2),
            max_size=3,
        ),
        max_size=6,
    ),
    st.sampled_from([None, 1, 4]),
)
def test_it_splits_arrays_like_json_loads(rows, indent):
    data = json.dumps(
        [{"question": "q", "answer": "a", "meta": r} for r in rows], indent=indent
    ).encode()
    items = list(iter_rows(io.BytesIO(data), format="question_answer"))
    assert [i.content["metadata"]["meta"] for i in items] == rows


@pytest.mark.parametrize("number", [b"-9223372036854775809", b"18446744073709551616", b"1" * 30])
def test_it_refuses_integers_beyond_64_bits_instead_of_rounding_them(number):
    data = (
        b'{"question": "q", "answer": "a", "n": '
        + number
        + b'}\n{"question": "q2", "answer": "a", "id": "'
        + b"9" * 30
        + b'"}\n'
    )
    items = list(iter_rows(io.BytesIO(data), format="question_answer"))
    assert isinstance(items[0], RowError) and items[0].code == "integer_out_of_range"
    assert isinstance(items[1], ParsedRow) and items[1].content["metadata"]["id"] == "9" * 30


@pytest.mark.parametrize(
    ("line", "path", "said"),
    [
        (b'{"messages": "bad"}', "messages", "messages must be a list or an object"),
        (b'{"conversations": "nope"}', "conversations", "conversations must be a list"),
        (
            b'{"messages": [{"role": "user", "content": "hi"}], "tools": "[{oops"}',
            "tools",
            "tools holds JSON text that is not valid JSON",
        ),
    ],
)
def test_it_names_the_field_not_the_line_when_a_field_is_a_string_that_is_not_json(
    line, path, said
):
    # The line is valid JSON; saying "This line is not valid JSON" sent users looking in the
    # wrong place (found driving the client's import against a live server).
    (row,) = list(iter_rows(io.BytesIO(line + b"\n")))
    assert row.code == "wrong_format"
    assert row.path == path
    assert said in row.message
    assert "This line is not valid JSON" not in row.message
