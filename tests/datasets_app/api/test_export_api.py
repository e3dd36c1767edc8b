import gzip
import io
import json

import pyarrow.parquet as pq
import pytest

from datasets_app.canonical import content_hash
from datasets_app.formats import iter_rows
from datasets_app.models import Example

TOOLS_CHAT = [
    {"role": "user", "content": "Weather in Oslo?"},
    {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": "c1",
                "type": "function",
                "function": {"name": "w", "arguments": '{"city": "Oslo"}'},
            }
        ],
    },
    {"role": "tool", "tool_call_id": "c1", "content": "rain"},
    {"role": "assistant", "content": "Rain."},
]


def body(response):
    return b"".join(response.streaming_content)


def test_it_streams_openai_jsonl_and_reimports_to_the_same_hashes(
    api_for, owner, dataset, make_example
):
    for i in range(3):
        make_example(
            dataset,
            owner,
            messages=[
                {"role": "user", "content": f"q{i} ünïcode 🙂"},
                {"role": "assistant", "content": "a"},
            ],
        )
    response = api_for(owner).get(f"/api/v1/datasets/{dataset.pk}/export/")
    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="dataset-{dataset.pk}.jsonl"'
    data = body(response)
    hashes = [content_hash(row.content["messages"]) for row in iter_rows(io.BytesIO(data))]
    assert hashes == list(Example.objects.order_by("id").values_list("content_hash", flat=True))


def test_it_exports_byte_identically_every_time(api_for, owner, dataset, make_example):
    make_example(
        dataset,
        owner,
        messages=[{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}],
    )
    client = api_for(owner)
    for fmt in ("openai", "parquet", "alpaca", "sharegpt", "prompt_completion"):
        first = body(client.get(f"/api/v1/datasets/{dataset.pk}/export/?format={fmt}&gzip=1"))
        second = body(client.get(f"/api/v1/datasets/{dataset.pk}/export/?format={fmt}&gzip=1"))
        assert first == second, fmt
        assert gzip.decompress(first)


def test_it_filters_by_split_and_status(api_for, owner, dataset, make_example):
    make_example(dataset, owner, split="train", status="approved")
    make_example(dataset, owner, split="test")
    client = api_for(owner)
    lines = body(client.get(f"/api/v1/datasets/{dataset.pk}/export/?split=train")).splitlines()
    assert len(lines) == 1
    lines = body(client.get(f"/api/v1/datasets/{dataset.pk}/export/?status=draft")).splitlines()
    assert len(lines) == 1


def test_it_writes_parquet(api_for, owner, dataset, make_example):
    make_example(dataset, owner)
    data = body(api_for(owner).get(f"/api/v1/datasets/{dataset.pk}/export/?format=parquet"))
    table = pq.read_table(io.BytesIO(data))
    assert table.num_rows == 1


def test_it_refuses_a_lossy_format_before_streaming(api_for, owner, dataset, make_example):
    example = make_example(dataset, owner, messages=TOOLS_CHAT)
    response = api_for(owner).get(f"/api/v1/datasets/{dataset.pk}/export/?format=alpaca")
    assert response.status_code == 400
    assert response.json()["code"] == "unrepresentable"
    assert str(example.pk) in response.json()["detail"]


def test_it_rejects_unknown_options_and_annotators(api_for, owner, teammate, dataset):
    assert (
        api_for(owner).get(f"/api/v1/datasets/{dataset.pk}/export/?format=xml").status_code == 400
    )
    assert (
        api_for(owner).get(f"/api/v1/datasets/{dataset.pk}/export/?split=holdout").status_code
        == 400
    )
    assert api_for(teammate).get(f"/api/v1/datasets/{dataset.pk}/export/").status_code == 403


def test_it_includes_metadata_when_asked(api_for, owner, dataset, make_example):
    make_example(dataset, owner, metadata={"source": "faq"})
    line = body(
        api_for(owner).get(f"/api/v1/datasets/{dataset.pk}/export/?metadata=1")
    ).splitlines()[0]
    assert json.loads(line)["metadata"] == {"source": "faq"}


def test_it_leaves_out_what_a_lossy_format_cannot_hold_when_asked(
    api_for, owner, dataset, make_example
):
    make_example(dataset, owner, messages=TOOLS_CHAT)
    make_example(
        dataset,
        owner,
        messages=[{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}],
    )
    response = api_for(owner).get(
        f"/api/v1/datasets/{dataset.pk}/export/?format=alpaca&skip_unrepresentable=1&gzip=1"
    )
    assert response.status_code == 200
    lines = gzip.decompress(body(response)).splitlines()
    assert [json.loads(line)["instruction"] for line in lines] == ["Hi"]


def test_it_leaves_out_what_a_lossy_format_cannot_hold_from_the_command_line(
    owner, dataset, make_example, tmp_path
):
    from django.core.management import CommandError, call_command

    make_example(dataset, owner, messages=TOOLS_CHAT)
    make_example(dataset, owner)
    target = tmp_path / "out.jsonl"
    with pytest.raises(CommandError, match="cannot be written as alpaca"):
        call_command("export_examples", str(dataset.pk), "--format=alpaca", "-o", str(target))
    assert not target.exists()
    call_command(
        "export_examples",
        str(dataset.pk),
        "--format=alpaca",
        "--skip-unrepresentable",
        "-o",
        str(target),
    )
    assert len(target.read_bytes().splitlines()) == 1
