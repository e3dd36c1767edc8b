"""Schemathesis against the running API with two users of different teams as peers.

Checklist A9/C18/D: ``object_level_authorization`` (ST402: one user must never read what the
other created), ``ignored_auth`` and ``not_a_server_error``, a bounded number of examples per
operation. The server is this app under the test settings (so every response also passes the
leak scan of tests/security/leakscan.py, a leak being a 500), in a fresh data folder, with the
training tasks that would load a model replaced by no-ops, and the serving engine beside it
(semantic search embeds its query there). Run by scripts/test.sh:

    .venv/bin/python -m tests.security.fuzz_api [--max-examples N]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

ROOT = Path(__file__).resolve().parents[2]
CHECKS = "not_a_server_error,object_level_authorization,ignored_auth"
PEERS = ("alice", "bob")
CHAT = [
    {"role": "user", "content": "What is 2+2?"},
    {"role": "assistant", "content": "4"},
]


class ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass


def seed() -> dict[str, str]:
    """Two teams, each with a user, a dataset, examples and a frozen version; their tokens."""
    from django.contrib.auth import get_user_model

    from datasets_app.models import Dataset
    from datasets_app.services.examples import example_create
    from datasets_app.services.versions import dataset_version_freeze
    from finetunedb.teams.services import api_token_create, team_create

    tokens = {}
    for name in PEERS:
        user = get_user_model().objects.create_user(name, password="fuzz-password-0123456789")
        team = team_create(user=user, name=f"team of {name}")
        dataset = Dataset.objects.create(team=team, name=f"{name}-data", created_by=user)
        for i in range(3):
            example_create(
                user=user, dataset=dataset, messages=[*CHAT[:1], {**CHAT[1], "content": f"{i}"}]
            )
        dataset_version_freeze(user=user, dataset=dataset, name="v1", force=True, reason="fuzz")
        tokens[name] = api_token_create(user=user, name="fuzz")[1]
    return tokens


def disable_model_tasks() -> None:
    """Training, evaluation and playground tasks would load a model in this process."""
    from training.services import evaluation, execute, runs

    runs.training_run_enqueue = lambda run_id: None
    execute.model_evaluate_enqueue = lambda model_id: None
    evaluation.playground_request_enqueue = lambda request_id: None


def warm_base_model() -> None:
    """Convert the bundled base model before the clock of any request starts."""
    from training.recipe.base_models import resolve_base_model
    from training.recipe.config import BUNDLED_BASE_MODEL
    from training.services.base_models import base_cache_dir

    resolve_base_model(BUNDLED_BASE_MODEL, base_cache_dir())


def serve():
    """This app on a free loopback port, in a thread; (server, base URL)."""
    from django.core.wsgi import get_wsgi_application

    server = make_server(
        "127.0.0.1", 0, get_wsgi_application(), ThreadingServer, handler_class=QuietHandler
    )
    # Refused requests are the point of a fuzz run; only errors are worth a log line. (After
    # get_wsgi_application(), which configures logging again.)
    logging.getLogger("django.request").setLevel(logging.ERROR)
    logging.getLogger("celery").setLevel(logging.WARNING)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}"


def start_engine(models_dir: Path) -> tuple[subprocess.Popen, str]:
    """The serving engine on a free loopback port, as ``make run`` starts it beside the web:
    ``?semantic=`` embeds its query there (POST /embed), so without it a search of an embedded
    dataset is a 503 by design. ``(process, url)``."""
    process = subprocess.Popen(
        [sys.executable, "-m", "serving.engine.server", "--port", "0", "--models-dir",
         str(models_dir), "--threads", "1"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    line = process.stdout.readline()
    if "serving engine on" not in line:
        process.kill()
        raise RuntimeError(f"the serving engine did not start: {line}{process.stdout.read()}")
    # keep reading its log, so a full pipe never blocks it
    threading.Thread(target=process.stdout.read, daemon=True).start()
    return process, line.split()[-1]


def write_config(folder: Path, tokens: dict[str, str]) -> Path:
    """schemathesis.toml naming a Web-Fuzzing-Commons auth file with the users as peers."""
    wfc = folder / "wfc-auth.json"
    users = [
        {"name": name, "fixedHeaders": [{"name": "Authorization", "value": f"Token {token}"}]}
        for name, token in tokens.items()
    ]
    wfc.write_text(json.dumps({"auth": users}))
    config = folder / "schemathesis.toml"
    config.write_text(f'[auth.wfc]\npath = "{wfc}"\npeers = {json.dumps(list(PEERS))}\n')
    return config


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-examples", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)

    folder = Path(tempfile.mkdtemp(prefix="finetunedb-fuzz-"))
    os.environ["DATA_DIR"] = str(folder)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "finetunedb.settings.test")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    # The bundled base model is converted once on first use (tens of seconds): keep it between runs.
    os.environ.setdefault("FINETUNEDB_MODELS_DIR", str(ROOT / "var" / "fuzz-models"))
    Path(os.environ["FINETUNEDB_MODELS_DIR"]).mkdir(parents=True, exist_ok=True)
    engine, os.environ["FINETUNEDB_SERVING_URL"] = start_engine(
        Path(os.environ["FINETUNEDB_MODELS_DIR"])
    )
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    tokens = seed()
    disable_model_tasks()
    warm_base_model()

    server, base = serve()
    config = write_config(folder, tokens)
    command = [
        str(Path(sys.executable).parent / "schemathesis"),
        "--config-file",
        str(config),
        "run",
        f"{base}/api/v1/schema/",
        "--checks",
        CHECKS,
        "--max-examples",
        str(args.max_examples),
        "--seed",
        str(args.seed),
        "--request-timeout",
        "30",
        "--warnings",
        "off",
    ]
    # its report folder (.schemathesis/) goes to the throwaway data folder, not the checkout
    try:
        result = subprocess.run(command, cwd=folder, check=False)
    finally:
        server.shutdown()
        engine.terminate()
        engine.wait(timeout=10)
        shutil.rmtree(folder, ignore_errors=True)
    return result.returncode


if __name__ == "__main__":
    sys.exit(main())
