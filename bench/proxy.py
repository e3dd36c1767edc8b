"""Logging proxy overhead (issue 19): POST /proxy/v1/chat/completions against calling the
upstream directly, both over loopback HTTP, in the same run.

- upstream: a stub OpenAI server in this process (ThreadingHTTPServer on 127.0.0.1): a
  non-streaming ``chat.completion``, or an SSE stream whose first chunk goes out at once and
  then ``--chunks`` more every 5 ms, then ``[DONE]``.
- proxy: the app served the way ``make run`` serves it (scripts/serve.sh): gunicorn with
  ``finetunedb.settings.dev``, 2 workers x 4 threads, SQLite under a fresh DATA_DIR, the stub
  configured as the administrator's upstream ``stub`` (FINETUNEDB_UPSTREAMS); the caller
  authenticates with a team ingest key. Every proxied call is logged (checked at the end).
- baseline: the same request sent straight to the stub, alternating with the proxied one.

Figures: p50 added latency of a non-streaming call (proxy p50 - direct p50; target <= 10 ms)
and p50 added delay of the first streamed chunk (target <= 20 ms).

Usage: python bench/proxy.py [--requests 200] [--chunks 8]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
WORK = tempfile.mkdtemp(prefix="finetunedb-bench-proxy-")
TARGET_ADDED_MS = 10
TARGET_FIRST_CHUNK_MS = 20

COMPLETION = {
    "id": "chatcmpl-stub",
    "object": "chat.completion",
    "created": 1765000000,
    "model": "stub-model",
    "choices": [
        {
            "index": 0,
            "message": {"role": "assistant", "content": "Your refund is on its way."},
            "finish_reason": "stop",
        }
    ],
    "usage": {"prompt_tokens": 12, "completion_tokens": 7, "total_tokens": 19},
}


def sse_chunk(text: str | None) -> bytes:
    delta = {"content": text} if text is not None else {}
    body = {
        "id": "chatcmpl-stub",
        "object": "chat.completion.chunk",
        "created": 1765000000,
        "model": "stub-model",
        "choices": [{"index": 0, "delta": delta, "finish_reason": None if text else "stop"}],
    }
    return b"data: " + json.dumps(body).encode() + b"\n\n"


class Stub(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    chunks = 8

    def log_message(self, *args):  # quiet
        pass

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if body.get("stream"):
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            parts = [sse_chunk("Your")] + [sse_chunk(f" w{i}") for i in range(self.chunks)]
            parts += [sse_chunk(None), b"data: [DONE]\n\n"]
            for i, part in enumerate(parts):
                if i:
                    time.sleep(0.005)
                self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
                self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")
            return
        out = json.dumps(COMPLETION).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def call(port: int, path: str, body: bytes, headers: dict, *, stream: bool):
    """(seconds to the whole answer, seconds to the first body bytes) of one POST."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    start = time.perf_counter()
    conn.request("POST", path, body=body, headers={"Content-Type": "application/json", **headers})
    response = conn.getresponse()
    first = None
    if stream:
        chunk = response.read1(65536)
        first = time.perf_counter() - start
        while chunk:
            chunk = response.read1(65536)
    else:
        response.read()
    total = time.perf_counter() - start
    assert response.status == 200, response.status
    conn.close()
    return total, first


def start_app(stub_port: int) -> tuple[subprocess.Popen, int, str, dict]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "finetunedb.settings.dev",
        "DATA_DIR": WORK,
        "DATABASE_URL": f"sqlite:///{WORK}/finetunedb.sqlite3",
        "FINETUNEDB_LOG_FORMAT": "json",
        "FINETUNEDB_UPSTREAMS": json.dumps({"stub": {"base_url": f"http://127.0.0.1:{stub_port}"}}),
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
    }
    py = str(ROOT / ".venv/bin/python")
    subprocess.run([py, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
    setup = (
        "import django; django.setup();"
        "from django.contrib.auth import get_user_model;"
        "from finetunedb.teams.models import Membership, Team;"
        "from capture.services.ingest_keys import ingest_key_create;"
        "u = get_user_model().objects.create_user(username='owner');"
        "t = Team.objects.create(name='bench');"
        "Membership.objects.create(team=t, user=u, role='owner');"
        "print(ingest_key_create(user=u, team=t, name='bench')[1])"
    )
    key = subprocess.run(
        [py, "-c", setup], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    ).stdout.split()[-1]
    port = free_port()
    app = subprocess.Popen(
        [str(ROOT / ".venv/bin/gunicorn"), "finetunedb.wsgi:application"]
        + ["--bind", f"127.0.0.1:{port}", "--workers", "2", "--threads", "4", "--timeout", "300"]
        + ["--logger-class", "finetunedb.logs.GunicornLogger"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(Path(WORK) / "gunicorn.log", "w"),  # noqa: SIM115
    )
    for _ in range(300):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.1)
    return app, port, key, env


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--chunks", type=int, default=8)
    args = parser.parse_args()
    Stub.chunks = args.chunks
    stub = ThreadingHTTPServer(("127.0.0.1", free_port()), Stub)
    threading.Thread(target=stub.serve_forever, daemon=True).start()
    app, port, key, env = start_app(stub.server_port)
    proxy_headers = {"Authorization": f"Bearer {key}", "X-FinetuneDB-Upstream": "stub"}
    request = {
        "model": "stub-model",
        "messages": [{"role": "user", "content": "Where is my refund?"}],
    }
    plain = json.dumps(request).encode()
    streamed = json.dumps({**request, "stream": True}).encode()
    try:
        for _ in range(10):  # warm both gunicorn workers and the stub
            call(port, "/proxy/v1/chat/completions", plain, proxy_headers, stream=False)
            call(port, "/proxy/v1/chat/completions", streamed, proxy_headers, stream=True)
        direct, proxied, direct_first, proxied_first = [], [], [], []
        for _ in range(args.requests):
            direct.append(call(stub.server_port, "/chat/completions", plain, {}, stream=False)[0])
            proxied.append(
                call(port, "/proxy/v1/chat/completions", plain, proxy_headers, stream=False)[0]
            )
            direct_first.append(
                call(stub.server_port, "/chat/completions", streamed, {}, stream=True)[1]
            )
            proxied_first.append(
                call(port, "/proxy/v1/chat/completions", streamed, proxy_headers, stream=True)[1]
            )
    finally:
        app.terminate()
        app.wait(timeout=30)
        stub.shutdown()
    logged = subprocess.run(
        [
            str(ROOT / ".venv/bin/python"),
            "-c",
            "import django; django.setup(); from capture.models import Log;"
            "print(Log.objects.count(), Log.objects.filter(error__isnull=False).count())",
        ],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    expected = 2 * (args.requests + 10)
    assert int(logged[0]) == expected and logged[1] == "0", (logged, expected)

    def ms(values):
        return statistics.median(values) * 1000

    def p95(values):
        return sorted(values)[round(0.95 * (len(values) - 1))] * 1000

    added = ms(proxied) - ms(direct)
    first = ms(proxied_first) - ms(direct_first)
    print(f"# {args.requests} calls each; all {expected} proxied calls logged")
    print(
        f"# non-streaming: direct p50 {ms(direct):.2f} ms (p95 {p95(direct):.2f}), "
        f"proxied p50 {ms(proxied):.2f} ms (p95 {p95(proxied):.2f})"
    )
    print(
        f"# first chunk: direct p50 {ms(direct_first):.2f} ms, proxied p50 {ms(proxied_first):.2f} ms"
    )
    print(
        f"BENCH proxy_added_latency value={added:.2f}ms baseline={ms(direct):.2f}ms "
        f"ratio={ms(proxied) / ms(direct):.2f} target=<={TARGET_ADDED_MS}ms "
        f"pass={'yes' if added <= TARGET_ADDED_MS else 'no'}"
    )
    print(
        f"BENCH proxy_first_chunk_delay value={first:.2f}ms baseline={ms(direct_first):.2f}ms "
        f"ratio={ms(proxied_first) / ms(direct_first):.2f} target=<={TARGET_FIRST_CHUNK_MS}ms "
        f"pass={'yes' if first <= TARGET_FIRST_CHUNK_MS else 'no'}"
    )


if __name__ == "__main__":
    main()
