"""Retries, backoff and errors of the client's transport, against a loopback stub server."""

from __future__ import annotations

import json
import random
import time

import pytest
from finetunedb_client import Client
from finetunedb_client.errors import (
    ConnectionFailed,
    NotFound,
    RateLimited,
    ServiceUnavailable,
    ValidationError,
)
from finetunedb_client.transport import backoff_delay, retry_after_seconds
from hypothesis import given
from hypothesis import strategies as st

OK = (200, {}, b'{"id": 1, "username": "alice"}')


def test_it_retries_429_and_503_honouring_retry_after(stub):
    stub.script = [
        (429, {"Retry-After": "1"}, b'{"detail": "slow down", "code": "throttled"}'),
        (503, {"Retry-After": "0"}, b'{"detail": "busy", "code": "database_busy"}'),
        OK,
    ]
    client = Client(stub.url, "ftdb_x", backoff=0.01)
    start = time.monotonic()
    me = client.me()
    elapsed = time.monotonic() - start
    assert me.username == "alice"
    assert len(stub.seen) == 3
    assert elapsed >= 1.0, "the client did not wait the Retry-After second"
    assert client.transport.retries == 2
    assert all(seen[2]["Authorization"] == "Token ftdb_x" for seen in stub.seen)


def test_it_retries_a_dropped_connection_for_a_get(stub):
    stub.script = ["drop", OK]
    assert Client(stub.url, "t", backoff=0.01).me().id == 1
    assert len(stub.seen) == 2


def test_it_gives_up_after_max_retries_with_the_last_answer(stub):
    stub.script = [(503, {"Retry-After": "0"}, b'{"detail": "busy", "code": "database_busy"}')] * 4
    client = Client(stub.url, "t", max_retries=2, backoff=0.01)
    with pytest.raises(ServiceUnavailable) as caught:
        client.me()
    assert len(stub.seen) == 3
    assert caught.value.status == 503 and caught.value.code == "database_busy"
    assert caught.value.retry_after == 0


def test_it_sends_a_plain_post_once(stub):
    stub.script = [(429, {"Retry-After": "0"}, b'{"detail": "slow down"}'), OK]
    with pytest.raises(RateLimited) as caught:
        Client(stub.url, "t", backoff=0.01).create_team(name="x")
    assert len(stub.seen) == 1, "a POST without an Idempotency-Key was sent twice"
    assert caught.value.retry_after == 0


def test_it_retries_a_log_batch_under_the_same_idempotency_key(stub):
    accepted = (202, {}, b'{"accepted": 1, "ids": [5]}')
    stub.script = [(503, {"Retry-After": "0"}, b"{}"), "drop", accepted]
    log = {"messages": [{"role": "user", "content": "hi"}], "response": "x", "model": "m"}
    result = Client(stub.url, "ftdbi_x", backoff=0.01).send_logs([log])
    assert result.ids == [5]
    keys = {seen[2]["Idempotency-Key"] for seen in stub.seen}
    assert len(stub.seen) == 3 and len(keys) == 1


def test_it_raises_errors_carrying_status_body_and_the_field(stub):
    body = {
        "detail": "1 of 1 logs are invalid; nothing was stored.",
        "code": "invalid_logs",
        "errors": [{"index": 0, "path": "logs[0].messages[0].role", "message": "bad role"}],
    }
    stub.script = [(400, {}, json.dumps(body).encode()), (404, {}, b'{"detail": "Not found."}')]
    client = Client(stub.url, "t")
    with pytest.raises(ValidationError) as caught:
        client.send_logs([{"messages": []}])
    err = caught.value
    assert err.status == 400 and err.body == body and err.code == "invalid_logs"
    assert err.path == "logs[0].messages[0].role" and err.index == 0
    assert "logs[0].messages[0].role: bad role" in str(err)
    with pytest.raises(NotFound):
        client.get_dataset(99)


def test_it_says_which_server_it_could_not_reach():
    client = Client("http://127.0.0.1:9", "t", max_retries=1, backoff=0.01)
    with pytest.raises(ConnectionFailed) as caught:
        client.me()
    assert "127.0.0.1:9" in str(caught.value) and caught.value.status is None


def test_it_reads_retry_after_as_seconds_or_an_http_date():
    assert retry_after_seconds("7") == 7.0
    assert retry_after_seconds("-3") == 0.0
    assert retry_after_seconds(None) is None and retry_after_seconds("soon") is None
    later = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(time.time() + 30))
    assert 25 <= retry_after_seconds(later) <= 31


@given(
    attempt=st.integers(min_value=0, max_value=40),
    base=st.floats(min_value=0.001, max_value=10),
    cap=st.floats(min_value=0.01, max_value=120),
    seed=st.integers(),
)
def test_it_keeps_each_backoff_in_the_upper_half_of_its_capped_window(attempt, base, cap, seed):
    delay = backoff_delay(attempt, base=base, cap=cap, rng=random.Random(seed))
    window = min(cap, base * 2**attempt)
    assert window / 2 <= delay <= window + 1e-9


def test_it_downloads_an_export_again_when_the_body_breaks_off(stub, tmp_path):
    body = b"".join(b'{"messages": [%d]}\n' % i for i in range(500))
    stub.script = [("partial", body), (200, {"Content-Type": "application/x-ndjson"}, body)]
    export = Client(stub.url, "t", backoff=0.01).export(3, path=tmp_path / "v3.jsonl")
    assert (tmp_path / "v3.jsonl").read_bytes() == body and export.size == len(body)
    assert [seen[1] for seen in stub.seen] == ["/api/v1/versions/3/export/?format=openai"] * 2
    assert list(tmp_path.iterdir()) == [tmp_path / "v3.jsonl"]  # no partial file left
