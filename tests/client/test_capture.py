"""``finetunedb_client.capture``: the background Logger and the openai wrapper, against a live
server (through a fault-injecting loopback proxy for the retries)."""

from __future__ import annotations

import json
import random
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from finetunedb_client.capture import Logger, wrap_openai

from tests.capture.test_proxy import COMPLETION, Stub

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def ingest_key(team, owner):
    from capture.services.ingest_keys import ingest_key_create

    return ingest_key_create(user=owner, team=team, name="app")[1]


class Faulty(BaseHTTPRequestHandler):
    """Forwards to the live server, but fails a third of the batches before they reach it
    (503 with Retry-After, or a dropped connection) and a fifth after it stored them (the
    answer lost, or a 502 in its place): the cases a retried batch must survive."""

    def log_message(self, *args):
        pass

    def do_POST(self):
        server = self.server
        body = self.rfile.read(int(self.headers["Content-Length"]))
        with server.lock:
            roll = server.rng.random()
        if roll < 0.2:
            return self._send(503, b'{"detail": "busy"}', {"Retry-After": "0"})
        if roll < 0.33:
            self.close_connection = True
            self.connection.shutdown(2)
            return
        forwarded = requests.post(
            server.target + self.path,
            data=body,
            headers={
                k: self.headers[k] for k in ("Authorization", "Content-Type", "Idempotency-Key")
            },
            timeout=60,
        )
        with server.lock:
            server.stored_batches += forwarded.status_code == 202
        if roll < 0.43:
            with server.lock:
                server.lost_answers += 1
            self.close_connection = True
            self.connection.shutdown(2)
            return
        if roll < 0.53:
            with server.lock:
                server.lost_answers += 1
            return self._send(502, b"Bad Gateway", {})
        self._send(forwarded.status_code, forwarded.content, {})

    def _send(self, status, payload, headers):
        self.send_response(status)
        for key, value in {"Content-Type": "application/json", **headers}.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


@pytest.fixture
def faulty(live):
    server = ThreadingHTTPServer(("127.0.0.1", 0), Faulty)
    server.target, server.rng, server.lock = live, random.Random(23), threading.Lock()
    server.stored_batches = server.lost_answers = 0
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def entry(i: int) -> dict:
    return {
        "messages": [{"role": "user", "content": f"Question number {i}?"}],
        "response": {"role": "assistant", "content": f"Answer {i}."},
        "model": "app-model",
        "metadata": {"seq": i},
    }


@pytest.mark.timeout(300)
def test_it_ingests_10k_logs_through_failures_without_duplicates(faulty, ingest_key, team):
    from capture.models import Log

    url = f"http://127.0.0.1:{faulty.server_port}"
    logger = Logger(
        url,
        ingest_key,
        batch_size=500,
        flush_interval=0.2,
        max_retries=30,
        backoff=0.01,
        max_backoff=0.05,
    )
    for i in range(10_000):
        assert logger.log(**entry(i), tags=["load"]) is True
    assert logger.flush(timeout=240), logger.stats()
    logger.close()

    stats = logger.stats()
    assert stats["sent"] == 10_000 and stats["dropped"] == 0, stats
    assert stats["retries"] > 0 and faulty.lost_answers > 0, "no failure was injected"
    rows = Log.objects.filter(team=team)
    assert rows.count() == 10_000
    seqs = sorted(rows.values_list("metadata__seq", flat=True))
    assert seqs == list(range(10_000))
    assert faulty.stored_batches > 20, "no batch was stored twice-sent (replayed)"


def test_it_never_blocks_or_raises_when_the_server_is_gone():
    logger = Logger(
        "http://127.0.0.1:9",
        "ftdbi_x",
        max_queue=5,
        flush_interval=0.05,
        max_retries=1,
        backoff=0.01,
        max_backoff=0.01,
        batch_size=5,
    )
    start = time.monotonic()
    results = [logger.log(**entry(i)) for i in range(200)]
    results.append(logger.log(messages=[{"role": "user", "content": object()}]))
    assert time.monotonic() - start < 1.0
    assert results[-1] is False and False in results[:200]  # the queue of 5 overflowed
    logger.flush(timeout=10)
    assert logger.close(timeout=5)
    stats = logger.stats()
    assert stats["sent"] == 0 and stats["dropped"] == 201, stats
    assert logger.log(**entry(0)) is False  # closed


def test_it_counts_logs_the_server_rejects_and_stores_the_rest(live, ingest_key, team):
    from capture.models import Log

    logger = Logger(live, ingest_key, flush_interval=0.05)
    logger.log(**entry(1))
    logger.log(messages=[{"role": "robot", "content": "x"}], response="?", model="m")
    assert logger.flush(timeout=30)
    logger.close()
    assert logger.stats()["sent"] == 1 and logger.stats()["rejected"] == 1
    assert "messages" in logger.stats()["last_error"]
    assert Log.objects.filter(team=team).count() == 1


@pytest.fixture
def upstream():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Stub)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    Stub.seen = []
    yield f"http://127.0.0.1:{server.server_port}/v1"
    server.shutdown()
    server.server_close()


def test_it_logs_openai_calls_streamed_and_not(live, ingest_key, team, upstream):
    from openai import OpenAI

    from capture.models import Log

    logger = Logger(live, ingest_key, tags=["app"], flush_interval=0.05)
    client = wrap_openai(
        OpenAI(base_url=upstream, api_key="sk-test", max_retries=0),
        logger,
        metadata={"service": "bot"},
    )
    question = [{"role": "user", "content": "What is 2+2?"}]
    answer = client.chat.completions.create(
        model="stub-model",
        messages=question,
        log_tags=["math"],
        log_metadata={"user": "u1"},
        log_trace_id="t-1",
    )
    assert answer.choices[0].message.content == COMPLETION["choices"][0]["message"]["content"]
    chunks = client.chat.completions.create(model="stub-model", messages=question, stream=True)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Hello"
    assert client.models is not None  # everything else passes through
    assert logger.flush(timeout=30)
    logger.close()

    plain, streamed = Log.objects.filter(team=team).order_by("id")
    assert plain.response["content"] == "4" and streamed.response["content"] == "Hello"
    assert plain.tags == ["app", "math"] and streamed.tags == ["app"]
    assert plain.metadata == {"service": "bot", "user": "u1"} and plain.trace_id == "t-1"
    assert (plain.prompt_tokens, plain.completion_tokens, plain.total_tokens) == (9, 1, 10)
    assert (streamed.prompt_tokens, streamed.total_tokens) == (3, 5)
    assert plain.latency_ms is not None and streamed.latency_ms is not None
    assert plain.model == "stub-model" and plain.messages == question


CALL = {
    "id": "call_1",
    "type": "function",
    "function": {"name": "lookup", "arguments": '{"q": "x"}'},
}
TOOLS = [{"type": "function", "function": {"name": "lookup", "parameters": {"type": "object"}}}]


class ToolStub(BaseHTTPRequestHandler):
    """An upstream that answers with a tool call, whole or streamed in pieces."""

    def log_message(self, *args):
        pass

    def do_POST(self):
        request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if request.get("stream"):
            pieces = [
                {
                    "index": 0,
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "lookup", "arguments": ""},
                },
                {"index": 0, "function": {"arguments": '{"q": '}},
                {"index": 0, "function": {"arguments": '"x"}'}},
            ]
            chunks = [
                {"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "tool-model",
                 "choices": [{"index": 0, "delta": {"tool_calls": [piece]}, "finish_reason": None}]}
                for piece in pieces
            ]  # fmt: skip
            body = b"".join(b"data: " + json.dumps(c).encode() + b"\n\n" for c in chunks)
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            self.wfile.write(body + b"data: [DONE]\n\n")
            return
        message = {"role": "assistant", "content": None, "tool_calls": [CALL]}
        completion = {
            "id": "c", "object": "chat.completion", "created": 1, "model": "tool-model",
            "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls"}],
        }  # fmt: skip
        payload = json.dumps(completion).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


def test_it_logs_tool_calls_whole_and_streamed(live, ingest_key, team):
    from openai import OpenAI

    from capture.models import Log

    server = ThreadingHTTPServer(("127.0.0.1", 0), ToolStub)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with Logger(live, ingest_key, flush_interval=0.05) as logger:
            base = f"http://127.0.0.1:{server.server_port}/v1"
            client = wrap_openai(OpenAI(base_url=base, api_key="sk", max_retries=0), logger)
            question = [{"role": "user", "content": "Find x."}]
            client.chat.completions.create(model="tool-model", messages=question, tools=TOOLS)
            with client.chat.completions.create(
                model="tool-model", messages=question, tools=TOOLS, stream=True
            ) as stream:
                assert len(list(stream)) == 3
            assert logger.flush(timeout=30)
        assert logger.stats()["rejected"] == 0, logger.stats()
    finally:
        server.shutdown()
        server.server_close()
    whole, streamed = Log.objects.filter(team=team).order_by("id")
    for log in (whole, streamed):
        assert log.response["tool_calls"] == [CALL]
        assert log.tools == TOOLS
