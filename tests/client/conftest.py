"""The client package (``client/``) against a live server: pytest-django's ``live_server``
(a real HTTP server on 127.0.0.1 in a thread of this process, tasks eager as everywhere in
the suite) or, for retries, a loopback stub.

The client is its own package; here it is imported from ``client/`` in the suite's
environment, and ``test_fresh_venv.py`` installs it into a fresh virtualenv the way a user
would.
"""

from __future__ import annotations

import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

CLIENT_DIR = Path(__file__).resolve().parents[2] / "client"
if str(CLIENT_DIR) not in sys.path:
    sys.path.insert(0, str(CLIENT_DIR))

CHATS = [
    {
        "messages": [
            {"role": "user", "content": f"What is {i} + {i}?"},
            {"role": "assistant", "content": f"{i} plus {i} is {2 * i}."},
        ]
    }
    for i in range(1, 13)
]


def chat_lines(rows=CHATS) -> bytes:
    return b"".join(json.dumps(row).encode() + b"\n" for row in rows)


@pytest.fixture
def live(live_server, owner, team):
    """``live_server``'s URL, with the owner (alice, the personas' password) in team Alpha;
    frozen versions and training runs the test made are purged after it (SQLite's flush
    cannot delete frozen versions)."""
    yield live_server.url
    from tests.training.conftest import purge_training_and_versions

    purge_training_and_versions()


@pytest.fixture
def xdg(tmp_path, monkeypatch):
    """A config folder of the test's own, and no token or URL from the environment."""
    folder = tmp_path / "config"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(folder))
    monkeypatch.delenv("FINETUNEDB_TOKEN", raising=False)
    monkeypatch.delenv("FINETUNEDB_URL", raising=False)
    monkeypatch.delenv("FINETUNEDB_INGEST_KEY", raising=False)
    return folder


class Scripted(BaseHTTPRequestHandler):
    """Answers each request with the next of ``server.script``: ``(status, headers, body)``,
    ``"drop"`` to close the connection without an answer, or ``("partial", body)``."""

    def log_message(self, *args):
        pass

    def _answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        server = self.server
        with server.lock:
            server.seen.append((self.command, self.path, dict(self.headers), body))
            step = server.script.pop(0) if server.script else (200, {}, b'{"ok": true}')
        if step == "drop":
            self.close_connection = True
            self.connection.shutdown(2)
            return
        if step[0] == "partial":  # ("partial", body): promises all of body, sends half, hangs up
            payload = step[1]
            self.send_response(200)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload[: len(payload) // 2])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(2)
            return
        status, headers, payload = step
        self.send_response(status)
        headers = {"Content-Type": "application/json", **headers}
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PATCH = do_DELETE = _answer


@pytest.fixture
def stub():
    """A loopback HTTP server that plays a script; ``stub.url``, ``stub.script``, ``stub.seen``."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), Scripted)
    server.script, server.seen, server.lock = [], [], threading.Lock()
    server.url = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
