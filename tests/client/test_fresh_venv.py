"""Issue 23's done-means: the client installed from the repository into a fresh virtualenv
logs in to a running server, imports a file with a progress bar, waits, freezes, and exports
to a JSONL file byte-identical to the API's export (and to pandas where pandas is installed);
the ``finetunedb`` command it installs does the same with ``--json``.

No network: the fresh environment sees the suite's packages (``requests``, ``tqdm``, pip and
setuptools) through a ``.pth`` file, and pip installs ``client/`` with ``--no-deps
--no-build-isolation --no-index``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest
import requests

from tests.client.conftest import CHATS, CLIENT_DIR, chat_lines
from tests.factories import PASSWORD

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

SCRIPT = r"""
import json, sys
import finetunedb_client
from finetunedb_client import Client

url, source, target = sys.argv[1:4]
client = Client(url)
client.login("alice", sys.stdin.readline().rstrip("\n"))
team = next(iter(client.list_teams())).id
dataset = client.create_dataset(team=team, name="fresh-venv")
job = client.import_file(dataset.id, source, progress=True).wait(progress=True)
version = client.freeze(dataset.id, name="v1")
export = client.export(version.id, path=target)
try:
    rows = len(export.to_pandas())
except ImportError:
    rows = None
print(json.dumps({
    "client_file": finetunedb_client.__file__,
    "server_imported": sorted(m for m in sys.modules if m.split(".")[0] in
                              ("django", "rest_framework", "finetunedb", "datasets_app")),
    "import_status": job.status, "examples": job.examples_created,
    "version": version.id, "total": version.total, "pandas_rows": rows,
    "token": client.transport.token,
}))
"""


@pytest.fixture(scope="module")
def fresh_venv(tmp_path_factory):
    """A new virtualenv with the client installed from a copy of ``client/``."""
    root = tmp_path_factory.mktemp("fresh")
    env_dir = root / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    purelib = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    Path(purelib, "suite-packages.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    source = root / "client"
    shutil.copytree(
        CLIENT_DIR, source, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__")
    )
    install = subprocess.run(
        [python, "-m", "pip", "install", "--no-deps", "--no-build-isolation", "--no-index",
         "--disable-pip-version-check", "--quiet", str(source)],
        capture_output=True, text=True, timeout=300, cwd=root,
    )  # fmt: skip
    assert install.returncode == 0, install.stdout + install.stderr
    return env_dir


def _env(tmp_path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FINETUNEDB_", "DJANGO_"))}
    env["XDG_CONFIG_HOME"] = str(tmp_path / "config")
    env.pop("PYTHONPATH", None)
    return env


def _api_export(live, token, version_id) -> bytes:
    response = requests.get(
        f"{live}/api/v1/versions/{version_id}/export/",
        headers={"Authorization": f"Token {token}"},
        timeout=30,
    )
    assert response.status_code == 200
    return response.content


@pytest.mark.timeout(600)
def test_it_works_installed_in_a_fresh_virtualenv(fresh_venv, live, tmp_path):
    source = tmp_path / "train.jsonl"
    source.write_bytes(chat_lines())
    target = tmp_path / "v1.jsonl"
    done = subprocess.run(
        [fresh_venv / "bin" / "python", "-c", SCRIPT, live, str(source), str(target)],
        input=PASSWORD + "\n", capture_output=True, text=True, timeout=300, cwd=tmp_path,
        env=_env(tmp_path),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert Path(result["client_file"]).is_relative_to(fresh_venv)
    assert result["server_imported"] == []
    assert result["import_status"] == "succeeded" and result["examples"] == len(CHATS)
    assert result["total"] == len(CHATS)
    assert "upload train.jsonl" in done.stderr  # the tqdm bars: the upload's and the job's
    assert re.search(r"import \d+ \(train\.jsonl\): succeeded", done.stderr)
    assert target.read_bytes() == _api_export(live, result["token"], result["version"])
    if result["pandas_rows"] is not None:
        assert result["pandas_rows"] == len(CHATS)


@pytest.mark.timeout(600)
def test_its_cli_does_the_same_with_json(fresh_venv, live, tmp_path):
    command = fresh_venv / "bin" / "finetunedb"
    env = _env(tmp_path)

    def cli(*argv, stdin=None):
        done = subprocess.run(
            [command, *argv], input=stdin, capture_output=True, text=True, timeout=300,
            cwd=tmp_path, env=env,
        )  # fmt: skip
        assert done.returncode == 0, (argv, done.returncode, done.stderr)
        return json.loads(done.stdout)

    cli("login", "--url", live, "-u", "alice", "--password-stdin", "--json", stdin=PASSWORD + "\n")
    token = json.loads((tmp_path / "config" / "finetunedb" / "config.json").read_text())["token"]
    dataset = cli("datasets", "create", "fresh-cli", "--json")
    source = tmp_path / "train.jsonl"
    source.write_bytes(chat_lines())
    job = cli("import", str(source), "--dataset", str(dataset["id"]), "--wait", "--json")
    assert job["status"] == "succeeded" and job["examples_created"] == len(CHATS)
    version = cli("freeze", "--dataset", str(dataset["id"]), "--name", "v1", "--json")
    target = tmp_path / "cli.jsonl"
    written = cli("export", "--version", str(version["id"]), "-o", str(target), "--json")
    assert written["bytes"] == target.stat().st_size
    assert target.read_bytes() == _api_export(live, token, version["id"])
    assert sys.executable not in str(command)
