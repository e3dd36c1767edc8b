"""The ``finetunedb`` command against a live server, run in-process with ``--json``."""

from __future__ import annotations

import io
import json
import stat

import pytest
import requests
from finetunedb_client.cli import main
from finetunedb_client.config import config_path

from tests.client.conftest import CHATS, chat_lines
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)


def run(capsys, *argv, stdin: str | None = None, monkeypatch=None):
    if stdin is not None:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def login(capsys, monkeypatch, live):
    code, out, err = run(
        capsys,
        "login", "--url", live, "-u", "alice", "--password-stdin", "--json",
        stdin=PASSWORD + "\n",
        monkeypatch=monkeypatch,
    )  # fmt: skip
    assert code == 0, err
    return json.loads(out)


def test_it_logs_in_imports_freezes_and_exports_with_json(capsys, monkeypatch, live, xdg, tmp_path):
    info = login(capsys, monkeypatch, live)
    assert info["username"] == "alice"
    path = config_path()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    token = json.loads(path.read_text())["token"]

    code, out, _ = run(capsys, "datasets", "create", "cli-data", "--json")
    assert code == 0
    dataset = json.loads(out)
    code, out, _ = run(capsys, "datasets", "list", "--json")
    assert [d["name"] for d in json.loads(out)] == ["cli-data"]

    source = tmp_path / "train.jsonl"
    source.write_bytes(chat_lines())
    code, out, err = run(
        capsys, "import", str(source), "--dataset", str(dataset["id"]), "--wait", "--json"
    )
    assert code == 0, err
    job = json.loads(out)
    assert job["status"] == "succeeded" and job["examples_created"] == len(CHATS)

    code, out, err = run(
        capsys, "--json", "freeze", "--dataset", str(dataset["id"]), "--name", "v1"
    )
    assert code == 0, err
    version = json.loads(out)
    assert version["total"] == len(CHATS) and version["name"] == "v1"

    target = tmp_path / "out" / "v1.jsonl"
    code, out, err = run(
        capsys, "export", "--version", str(version["id"]), "-o", str(target), "--json"
    )
    assert code == 0, err
    assert json.loads(out)["bytes"] == target.stat().st_size
    direct = requests.get(
        f"{live}/api/v1/versions/{version['id']}/export/",
        headers={"Authorization": f"Token {token}"},
        timeout=30,
    )
    assert target.read_bytes() == direct.content


def test_it_exits_with_codes_that_say_what_went_wrong(
    capsys, monkeypatch, live, xdg, tmp_path, other_dataset
):
    code, _, err = run(capsys, "datasets", "list", "--url", live)
    assert code == 4 and "finetunedb login" in err

    code, _, err = run(
        capsys, "login", "--url", live, "-u", "alice", "--password-stdin",
        stdin="wrong\n", monkeypatch=monkeypatch,
    )  # fmt: skip
    assert code == 4 and "Unable to log in" in err
    assert not config_path().exists()

    login(capsys, monkeypatch, live)
    code, _, err = run(capsys, "import", str(tmp_path / "missing.jsonl"), "--dataset", "1")
    assert code == 2 and "no such file" in err
    with pytest.raises(SystemExit) as caught:
        main(["import"])
    assert caught.value.code == 2

    code, out, err = run(capsys, "export", "--dataset", str(other_dataset.pk), "--json")
    assert code == 1 and json.loads(out)["status"] == 404

    code, out, _ = run(capsys, "datasets", "create", "bad-rows", "--json")
    dataset = json.loads(out)
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(chat_lines(CHATS[:1]) + b'{"messages": "nope"}\n')
    code, out, err = run(
        capsys, "import", str(bad), "--dataset", str(dataset["id"]), "--wait", "--json"
    )
    assert code == 3 and json.loads(out)["status"] == "failed"
    assert "line 2" in err

    code, _, err = run(capsys, "datasets", "list", "--url", "http://127.0.0.1:9")
    assert code == 5 and "127.0.0.1:9" in err


def test_it_sends_a_log_file_once_however_often_it_is_sent(
    capsys, monkeypatch, live, xdg, tmp_path, team
):
    from capture.models import Log

    login(capsys, monkeypatch, live)
    entries = [
        {
            "messages": [{"role": "user", "content": f"q{i}"}],
            "response": {"role": "assistant", "content": f"a{i}"},
            "model": "m",
        }
        for i in range(25)
    ]
    source = tmp_path / "logs.jsonl"
    source.write_text("".join(json.dumps(e) + "\n" for e in entries))
    code, out, err = run(capsys, "logs", "send", str(source), "--batch-size", "10", "--json")
    assert code == 0, err
    assert json.loads(out)["accepted"] == 25
    code, out, _ = run(capsys, "logs", "send", str(source), "--batch-size", "10", "--json")
    assert code == 0 and json.loads(out)["already_stored"] == 25
    assert Log.objects.filter(team=team).count() == 25
