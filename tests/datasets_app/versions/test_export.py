import gzip
import json

import orjson
import pytest

from datasets_app.formats import EXPORT_FORMATS
from datasets_app.services.export import FIRST_PROBLEMS

from .conftest import chat

pytestmark = pytest.mark.postgres


def _get(api, version, query):
    response = api.get(f"/api/v1/versions/{version.pk}/export/?{query}")
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return response, body


@pytest.fixture
def version(dataset, owner, make_example, freeze):
    make_example(dataset, owner, chat("hello", "hi"), split="train")
    make_example(dataset, owner, chat("bye", "ciao", system="Be brief."), split="test")
    make_example(dataset, owner, chat("gone"), status="archived")
    return freeze(dataset, name="v1")


@pytest.mark.parametrize("fmt", ["openai", "parquet", "sharegpt"])
def test_it_exports_the_same_bytes_every_time_even_after_live_edits(
    version, dataset, owner, api_for, make_example, edit, fmt
):
    api = api_for(owner)
    first_response, first = _get(api, version, f"format={fmt}")
    assert first_response.status_code == 200
    _, second = _get(api, version, f"format={fmt}")
    assert first == second and first
    for entry in version.entries.select_related("example"):
        edit(entry.example, messages=chat("rewritten"), split="validation", status="archived")
    make_example(dataset, owner, chat("new one"))
    _, after = _get(api, version, f"format={fmt}")
    assert after == first


def test_it_streams_a_named_attachment_of_one_split(version, owner, api_for):
    response, body = _get(api_for(owner), version, "format=openai&split=train")
    assert response.streaming
    assert response["Content-Disposition"] == (
        'attachment; filename="support-chats-v1-train-openai.jsonl"'
    )
    lines = [orjson.loads(line) for line in body.splitlines()]
    assert lines == [{"messages": chat("hello", "hi")}]


def test_it_exports_every_example_of_the_version_in_id_order(version, owner, api_for):
    _, body = _get(api_for(owner), version, "format=openai")
    contents = [orjson.loads(line)["messages"][-2]["content"] for line in body.splitlines()]
    assert contents == ["hello", "bye"]


def test_it_refuses_a_format_that_cannot_hold_an_example_unless_told_to_skip(
    version, owner, api_for
):
    api = api_for(owner)
    response, _ = _get(api, version, "format=prompt_completion")
    assert response.status_code == 400
    assert response.json()["code"] == "unrepresentable"
    assert len(response.json()["errors"]) == 1
    response, body = _get(api, version, "format=prompt_completion&skip_unrepresentable=true")
    assert response.status_code == 200
    assert [orjson.loads(line) for line in body.splitlines()] == [
        {"prompt": "hello", "completion": "hi"}
    ]


@pytest.mark.parametrize("query", ["format=csv", "format=openai&split=holdout"])
def test_it_answers_400_to_unknown_formats_and_splits(version, owner, api_for, query):
    response, _ = _get(api_for(owner), version, query)
    assert response.status_code == 400


def test_it_offers_every_export_format(version, owner, api_for):
    api = api_for(owner)
    for fmt in EXPORT_FORMATS:
        response, body = _get(api, version, f"format={fmt}&skip_unrepresentable=1")
        assert response.status_code == 200, fmt


def test_it_compresses_with_gzip_1_like_the_working_copy(version, owner, api_for):
    api = api_for(owner)
    _, plain = _get(api, version, "format=openai")
    response, packed = _get(api, version, "format=openai&gzip=1")
    assert response["Content-Type"] == "application/gzip"
    assert response["Content-Disposition"].endswith('-openai.jsonl.gz"')
    assert gzip.decompress(packed) == plain
    _, again = _get(api, version, "format=openai&compress=gzip")
    assert again == packed


def test_it_keeps_64_bit_integers_exact_in_a_version_and_in_training_records(
    dataset, owner, make_example, freeze, api_for
):
    from training.services.records import version_records

    limits = {"max": 2**63 - 1, "min": -(2**63), "step": 0.1}
    tools = [{"type": "function", "function": {"name": "f", "parameters": limits}}]
    make_example(dataset, owner, chat("q"), tools=tools, metadata={"n": 2**63 - 1})
    version = freeze(dataset, name="v1")
    _, body = _get(api_for(owner), version, "format=openai&metadata=1")
    assert b"9223372036854775807" in body and b"-9223372036854775808" in body
    assert json.loads(body) == {"messages": chat("q"), "tools": tools, "metadata": {"n": 2**63 - 1}}
    assert version_records(version, "unassigned")[0]["tools"] == tools


def test_it_words_and_caps_a_refusal_as_the_working_copy_export_does(
    dataset, owner, make_example, freeze, api_for
):
    tool_call = {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
    messages = [
        {"role": "user", "content": "q"},
        {"role": "assistant", "content": None, "tool_calls": [tool_call]},
        {"role": "tool", "tool_call_id": "c1", "content": "r"},
        {"role": "assistant", "content": "a"},
    ]
    for _ in range(FIRST_PROBLEMS + 5):
        make_example(dataset, owner, messages)
    version = freeze(dataset, name="v1")
    api = api_for(owner)
    refused, _ = _get(api, version, "format=alpaca")
    working = api.get(f"/api/v1/datasets/{dataset.pk}/export/?format=alpaca")
    assert refused.status_code == working.status_code == 400
    assert refused.json()["detail"] == working.json()["detail"]
    assert refused.json()["detail"].startswith(f"{FIRST_PROBLEMS + 5} example(s) cannot be")
    assert refused.json()["errors"] == working.json()["errors"]
    assert len(refused.json()["errors"]) == FIRST_PROBLEMS
