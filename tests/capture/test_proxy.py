"""POST /proxy/v1/chat/completions against a local stub upstream (a thread on 127.0.0.1)."""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.test import Client

from capture.models import Log

pytestmark = pytest.mark.django_db(transaction=True)

COMPLETION = {
    "id": "chatcmpl-1",
    "object": "chat.completion",
    "model": "stub-model",
    "choices": [
        {"index": 0, "message": {"role": "assistant", "content": "4"}, "finish_reason": "stop"}
    ],
    "usage": {"prompt_tokens": 9, "completion_tokens": 1, "total_tokens": 10},
}
CHUNKS = [
    {
        "model": "stub-model",
        "choices": [{"index": 0, "delta": {"role": "assistant", "content": "Hel"}}],
    },
    {"model": "stub-model", "choices": [{"index": 0, "delta": {"content": "lo"}}]},
    {
        "model": "stub-model",
        "choices": [],
        "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5},
    },
]
SSE = b"".join(b"data: " + json.dumps(c).encode() + b"\n\n" for c in CHUNKS) + b"data: [DONE]\n\n"


class Stub(BaseHTTPRequestHandler):
    seen: list = []

    def log_message(self, *args):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Stub.seen.append((self.path, self.headers.get("Authorization"), body))
        request = json.loads(body)
        mode = request.get("user", "")
        if mode == "slow":
            time.sleep(2)
        if mode == "fail":
            self._send(
                429,
                b'{"error": {"message": "Rate limit reached", "type": "rate_limit"}}',
                "application/json",
            )
        elif request.get("stream"):
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            self.wfile.write(SSE)
        else:
            self._send(200, json.dumps(COMPLETION).encode(), "application/json")

    def _send(self, status, body, kind):
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def upstream(settings):
    server = ThreadingHTTPServer(("127.0.0.1", 0), Stub)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    Stub.seen = []
    settings.FINETUNEDB_UPSTREAMS = {
        "stub": {"base_url": f"http://127.0.0.1:{server.server_port}/v1", "api_key": "sk-upstream"}
    }
    settings.FINETUNEDB_PROXY_TIMEOUT_S = 0.5
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def key(owner, team):
    from capture.services.ingest_keys import ingest_key_create

    return ingest_key_create(user=owner, team=team, name="app")[1]


def call(key, body, upstream="stub"):
    return Client().post(
        "/proxy/v1/chat/completions",
        json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {key}",
        HTTP_X_FINETUNEDB_UPSTREAM=upstream,
    )


ASK = {"model": "stub-model", "messages": [{"role": "user", "content": "2+2?"}]}


def test_it_forwards_and_logs_a_completion(upstream, key, team):
    response = call(key, ASK)
    assert response.status_code == 200
    assert response.json() == COMPLETION
    path, auth, body = Stub.seen[0]
    assert path == "/v1/chat/completions" and auth == "Bearer sk-upstream"
    assert json.loads(body) == ASK
    log = Log.objects.get()
    assert log.team == team and log.source == "proxy"
    assert log.response == {"role": "assistant", "content": "4"} and log.total_tokens == 10
    assert log.latency_ms is not None and log.metadata == {"upstream": "stub"}


def test_it_streams_the_sse_unchanged_and_logs_the_whole_answer(upstream, key):
    response = call(key, {**ASK, "stream": True})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/event-stream")
    assert b"".join(response.streaming_content) == SSE
    log = Log.objects.get()
    assert log.response == {"role": "assistant", "content": "Hello"} and log.total_tokens == 5


def test_it_passes_upstream_errors_through_and_logs_them(upstream, key):
    response = call(key, {**ASK, "user": "fail"})
    assert response.status_code == 429
    assert response.json()["error"]["type"] == "rate_limit"
    log = Log.objects.get()
    assert log.response is None and log.error["status"] == 429


def test_it_answers_an_openai_shaped_504_when_the_upstream_times_out(upstream, key):
    response = call(key, {**ASK, "user": "slow"})
    assert response.status_code == 504
    assert response.json()["error"]["type"] == "upstream_timeout"
    assert Log.objects.get().error["type"] == "upstream_timeout"


def test_it_only_goes_to_a_named_upstream(upstream, key):
    response = call(key, ASK, upstream="http://169.254.169.254/")
    assert response.status_code == 400 and "stub" in response.json()["detail"]
    assert Stub.seen == [] and Log.objects.count() == 0


def test_it_refuses_callers_without_a_key(upstream):
    assert call("ftdbi_wrong", ASK).status_code == 401
    assert Stub.seen == []
