"""``?semantic=`` embeds its query on the serving engine, never in the web process: a web process
that searched has loaded neither torch nor transformers; an engine that is down, or that does
not offer the dataset's model, is a 503 ``embedding_service_unavailable`` that says what to
start, on the API and on the page, while searching the words still works."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection
from django.urls import reverse

from finetunedb.teams.services import api_token_create
from semantic.services import jobs
from tests.semantic.conftest import build_tiny_bert

ROOT = Path(__file__).resolve().parents[2]
DOWN = "http://127.0.0.1:9"  # nothing listens on the discard port
QUESTIONS = [
    "how do i get a refund for my order",
    "reset my password please",
    "bake a cake with flour and sugar",
]


def chat(q: str) -> list[dict]:
    return [{"role": "user", "content": q}, {"role": "assistant", "content": "ok"}]


def embed(owner, dataset, model: Path, monkeypatch, capture) -> None:
    monkeypatch.setattr(jobs, "embedding_job_enqueue", lambda pk: jobs.embedding_job_run(job_id=pk))
    with capture(execute=True):
        jobs.embedding_job_create(user=owner, dataset=dataset, model=str(model))


@pytest.fixture
def examples(dataset, owner, make_example):
    return [make_example(dataset, owner, messages=chat(q)) for q in QUESTIONS]


@pytest.fixture
def embedded(embedding_settings, owner, dataset, examples, tiny_bert_dir, monkeypatch,
             django_capture_on_commit_callbacks):  # fmt: skip
    embed(owner, dataset, tiny_bert_dir, monkeypatch, django_capture_on_commit_callbacks)
    return examples


SEARCH_IN_A_WEB_PROCESS = """
import json, sys
import django
django.setup()
from django.test import Client
response = Client().get(
    "/api/v1/datasets/{dataset}/examples/", {{"semantic": {query!r}}},
    HTTP_AUTHORIZATION="Token {token}",
)
print(json.dumps({{
    "status": response.status_code,
    "ids": [row["id"] for row in response.json().get("results", [])],
    "loaded": sorted(m for m in ("torch", "transformers") if m in sys.modules),
}}))
"""


@pytest.mark.django_db(transaction=True)
def test_it_searches_in_a_web_process_that_never_loads_torch(
    embedded, embedding_settings, embedding_engine, owner, dataset, tiny_bert_dir
):
    # The rows the job committed are read by a fresh process, as a gunicorn worker reads them.
    _, token = api_token_create(user=owner, name="search")
    code = SEARCH_IN_A_WEB_PROCESS.format(dataset=dataset.pk, query=QUESTIONS[2], token=token)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "finetunedb.settings.test",
        "DATABASE_URL": f"sqlite:///{connection.settings_dict['NAME']}",
        "DATA_DIR": str(embedding_settings.DATA_DIR),
        "FINETUNEDB_SERVING_URL": embedding_engine,
        "FINETUNEDB_EMBEDDING_MODELS": str(tiny_bert_dir),
    }
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    answer = json.loads(out.stdout.strip().splitlines()[-1])
    assert answer["status"] == 200
    assert answer["ids"][0] == embedded[2].pk
    assert sorted(answer["ids"]) == sorted(e.pk for e in embedded)
    assert answer["loaded"] == []


@pytest.mark.django_db
def test_it_answers_503_saying_to_start_the_engine_when_it_is_down(
    embedded, settings, api_for, owner, dataset
):
    settings.FINETUNEDB_SERVING_URL = DOWN
    api = api_for(owner)
    response = api.get(f"/api/v1/datasets/{dataset.pk}/examples/", {"semantic": "refund"})
    assert response.status_code == 503
    body = response.json()
    assert body["code"] == "embedding_service_unavailable"
    assert "serving engine" in body["detail"] and "make run" in body["detail"]
    words = api.get(f"/api/v1/datasets/{dataset.pk}/examples/", {"search": "refund"})
    assert words.status_code == 200
    assert [row["id"] for row in words.json()["results"]] == [embedded[0].pk]


@pytest.mark.django_db
def test_it_shows_the_engine_message_on_the_page(embedded, settings, client, owner, dataset):
    settings.FINETUNEDB_SERVING_URL = DOWN
    client.force_login(owner)
    page = client.get(reverse("semantic:search", args=[dataset.pk]), {"q": "refund"})
    assert page.status_code == 200
    assert "make run starts it beside the web server" in page.content.decode()


@pytest.mark.django_db
def test_it_answers_503_naming_a_model_the_engine_does_not_offer(
    embedding_served, api_for, owner, dataset, examples, tmp_path, monkeypatch,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    # registered with the web app (the worker embedded with it) but not with the engine
    other = build_tiny_bert(tmp_path / "other-bert")
    embedding_served.FINETUNEDB_EMBEDDING_MODELS = [str(other)]
    embed(owner, dataset, other, monkeypatch, django_capture_on_commit_callbacks)
    response = api_for(owner).get(f"/api/v1/datasets/{dataset.pk}/examples/", {"semantic": "cake"})
    assert response.status_code == 503
    body = response.json()
    assert body["code"] == "embedding_service_unavailable"
    assert "does not offer" in body["detail"] and f"--embedding-model {other}" in body["detail"]


def _fake_engine(body: bytes):
    """A server on 127.0.0.1 answering every POST with ``body`` (200): something that is not
    the engine, or an engine serving another model under the dataset's model name."""
    import http.server
    import threading

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):  # noqa: N802
            self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def _rows(*rows) -> bytes:
    return json.dumps({"data": [{"index": i, "embedding": r} for i, r in enumerate(rows)]}).encode()


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (_rows([0.1] * 7), "7 values"),  # another model's vector: the stored rows have 32
        (_rows(["a"] * 32), "not a vector"),
        (b'{"data": [{"index": 0, "embedding": [NaN' + b", 0.1" * 31 + b"]}]}", "not a vector"),
        (_rows(), "not a vector"),
        (_rows([0.1] * 32, [0.1] * 32), "not a vector"),
        (_rows([]), "not a vector"),
        (b"[" * 100_000 + b"]" * 100_000, "not answering"),  # was a RecursionError: a 500
        (_rows([0.1] * 32) + b" " * 70_000, "not answering"),  # past the (lowered) reply cap
    ],
)
@pytest.mark.postgres  # on PostgreSQL with pgvector the rows' length comes from the table
@pytest.mark.django_db
def test_it_answers_503_when_the_engine_answers_something_that_is_not_the_query_vector(
    embedded, settings, api_for, owner, dataset, body, says, monkeypatch
):
    # Was a 500 (wrong length, strings, no row) or a ranking by NaN scores (a 200).
    from serving import client

    monkeypatch.setattr(client, "MAX_EMBED_REPLY_BYTES", 64 * 1024)
    server, url = _fake_engine(body)
    settings.FINETUNEDB_SERVING_URL = url
    try:
        response = api_for(owner).get(
            f"/api/v1/datasets/{dataset.pk}/examples/", {"semantic": "refund"}
        )
    finally:
        server.shutdown()
    assert response.status_code == 503, response.content
    assert response.json()["code"] == "embedding_service_unavailable"
    assert says in response.json()["detail"]
