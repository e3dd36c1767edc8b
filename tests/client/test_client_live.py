"""The Python client against a live server: log in, import, wait, freeze, export, read back."""

from __future__ import annotations

import json

import pytest
import requests
from finetunedb_client import Client, JobFailed, NotFound, PreconditionFailed, ValidationError

from tests.client.conftest import CHATS, chat_lines
from tests.datasets_app.formats.test_export import TOOLS as TOOL_CHAT
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def client(live, xdg):
    client = Client(live)
    client.login("alice", PASSWORD)
    return client


def _team_id(client):
    (team,) = client.list_teams()
    return team.id


def test_it_imports_freezes_and_exports_the_apis_bytes(client, live, tmp_path, capsys):
    dataset = client.create_dataset(team=_team_id(client), name="client-flow")
    source = tmp_path / "train.jsonl"
    source.write_bytes(chat_lines())

    job = client.import_file(dataset.id, source, progress=True)
    assert job.wait(progress=True) is job
    assert job.status == "succeeded" and job.examples_created == len(CHATS)
    assert "upload train.jsonl" in capsys.readouterr().err  # tqdm drew the bars on stderr

    split = client.split(dataset.id, ratios={"train": 0.75, "validation": 0.25}, seed=1)
    assert sum(split.counts.values()) == len(CHATS)
    version = client.freeze(dataset.id, name="v1")
    assert version.total == len(CHATS) and len(version.content_hash) == 64

    export = client.export(version.id, path=tmp_path / "v1.jsonl")
    direct = requests.get(
        f"{live}/api/v1/versions/{version.id}/export/",
        headers={"Authorization": f"Token {client.transport.token}"},
        timeout=30,
    )
    assert direct.status_code == 200
    assert (tmp_path / "v1.jsonl").read_bytes() == direct.content
    records = list(export.records())
    assert sorted(r["messages"][0]["content"] for r in records) == sorted(
        c["messages"][0]["content"] for c in CHATS
    )
    assert export.to_arrow().num_rows == len(CHATS)

    train_only = client.export(version.id, split="train", format="parquet")
    with train_only:
        assert train_only.to_arrow().num_rows == version.counts["train"]
    assert not train_only.path.exists(), "a temporary export was left behind"


def test_it_exports_to_pandas_and_datasets(client, tmp_path):
    pandas = pytest.importorskip("pandas")
    dataset = client.create_dataset(team=_team_id(client), name="frames")
    source = tmp_path / "train.jsonl"
    source.write_bytes(chat_lines())
    client.import_file(dataset.id, source, wait=True)
    version = client.freeze(dataset.id)
    frame = client.export(version.id).to_pandas()
    assert isinstance(frame, pandas.DataFrame) and len(frame) == len(CHATS)
    assert "messages" in frame.columns
    hf = pytest.importorskip("datasets")
    assert isinstance(client.export(version.id).to_dataset(), hf.Dataset)


def test_it_keeps_columns_only_later_rows_have(client, tmp_path):
    # the JSONL export writes "tools" only on rows with tools; a reader that takes its
    # columns from the first row (pyarrow's and datasets' from_list) silently drops them
    pytest.importorskip("datasets")
    dataset = client.create_dataset(team=_team_id(client), name="tool-rows")
    source = tmp_path / "train.jsonl"
    source.write_bytes(chat_lines([*CHATS[:9], TOOL_CHAT]))
    client.import_file(dataset.id, source, wait=True)
    version = client.freeze(dataset.id)
    export = client.export(version.id)
    assert list(export.records())[0].keys() == {"messages"}, "the case this test is about"

    for rows in (export.to_dataset().to_list(), export.to_arrow().to_pylist()):
        (with_tools,) = [row for row in rows if row["tools"]]
        assert with_tools["tools"] == TOOL_CHAT["tools"]
        assert with_tools["messages"][1]["tool_calls"][0]["function"]["name"] == "w"
        assert sum(row["tools"] is None for row in rows) == 9
    frame = export.to_pandas()
    assert frame["tools"].notna().sum() == 1

    parquet = client.export(version.id, format="parquet", path=tmp_path / "v.parquet")
    from_parquet = parquet.to_dataset()
    assert len(from_parquet) == 10 and len(parquet.to_pandas()) == 10
    (row,) = [r for r in from_parquet if r["tools"]]
    assert json.loads(row["tools"]) == TOOL_CHAT["tools"]


def test_it_pages_through_every_example(client, make_example, owner, team):
    from tests.factories import DatasetFactory

    dataset = DatasetFactory(team=team, name="paged", created_by=owner)
    made = {make_example(dataset, owner, c["messages"]).pk for c in CHATS[:7]}
    seen = [e.id for e in client.list_examples(dataset.id, page_size=3)]
    assert sorted(seen) == sorted(made)


def test_it_names_the_line_of_a_failed_import(client, tmp_path):
    dataset = client.create_dataset(team=_team_id(client), name="bad-file")
    rows = chat_lines(CHATS[:2]) + b'{"messages": [{"role": "robot", "content": "x"}]}\n'
    source = tmp_path / "bad.jsonl"
    source.write_bytes(rows)
    job = client.import_file(dataset.id, source)
    with pytest.raises(JobFailed) as caught:
        job.wait()
    assert caught.value.job.status == "failed"
    assert caught.value.line == 3
    assert job.error_report_lines() and job.error_report_lines()[0]["line"] == 3
    assert list(client.list_examples(dataset.id)) == []


def test_it_raises_what_the_api_said(client, other_dataset, dataset, example):
    with pytest.raises(NotFound) as caught:
        client.get_dataset(other_dataset.pk)
    assert caught.value.status == 404
    with pytest.raises(ValidationError) as caught:
        client.create_example(dataset.pk, messages=[{"role": "robot", "content": "hi"}])
    assert caught.value.status == 400 and caught.value.path.startswith("messages")
    updated = client.update_example(example.pk, tags=["reviewed"])
    assert updated.tags == ["reviewed"] and updated.revision == example.revision + 1
    with pytest.raises(PreconditionFailed):
        client.update_example(example.pk, revision=example.revision, notes="stale")


def test_it_captures_logs_and_turns_them_into_examples(client, dataset):
    team = _team_id(client)
    key = client.create_ingest_key(team, name="app")
    assert key.key and key.key.startswith("ftdbi_")
    logs = Client(client.url, key.key)
    entry = {
        "messages": [{"role": "user", "content": "Hello?"}],
        "response": {"role": "assistant", "content": "Hi."},
        "model": "gpt-x",
        "tags": ["prod"],
    }
    first = logs.send_logs([entry, entry], idempotency_key="batch-1")
    again = logs.send_logs([entry, entry], idempotency_key="batch-1")
    assert first.accepted == 2 and again.ids == first.ids and again.replayed
    listed = list(client.list_logs(team=team, tag="prod", page_size=1))
    assert sorted(log.id for log in listed) == sorted(first.ids)
    made = client.examples_from_logs(dataset.pk, ids=first.ids[:1])
    assert made.created == 1
    assert client.get_example(made.ids[0]).source_log == first.ids[0]
    assert json.loads(json.dumps(client.get_log(first.ids[0]).to_dict()))["model"] == "gpt-x"
