"""``POST /embed`` on a live serving engine (serving/engine/embeddings.py): one request of many
texts equals the texts one by one and the worker's own embedder, in order, unit length; inputs
past the limits, bad JSON and unknown models are refused with a message naming what to fix; a
bundled model whose weights were changed is a 503, not run; the engine imports no Django."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from semantic.bundled import BUNDLED_EMBEDDING_MODEL, COMPLETE_MARKER
from semantic.embedder import Embedder
from serving.engine.embeddings import (
    BATCH,
    MAX_INPUT_CHARS,
    MAX_INPUTS,
    EmbeddingService,
    EmbedRefused,
    embed_input_parse,
)
from tests.semantic.conftest import WORDS, embedding_engine, tiny_bert_dir  # noqa: F401

ROOT = Path(__file__).resolve().parents[2]


def post(url: str, body) -> tuple[int, dict]:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    request = urllib.request.Request(  # noqa: S310 - the loopback engine of this test
        url + "/embed", data=data, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def texts(n: int) -> list[str]:
    # lengths from 1 to ~40 words, so the length-sorted batches pad differently
    return [
        " ".join(WORDS[(i * 7 + j) % len(WORDS)] for j in range(1 + (i * 5) % 40)) for i in range(n)
    ]


def test_it_embeds_a_batch_as_it_embeds_each_text_alone(embedding_engine, tiny_bert_dir):  # noqa: F811
    batch = texts(BATCH + 8)  # more than one forward pass
    status, body = post(embedding_engine, {"model": str(tiny_bert_dir), "input": batch})
    assert status == 200, body
    assert body["object"] == "list" and body["model"] == str(tiny_bert_dir)
    assert [row["index"] for row in body["data"]] == list(range(len(batch)))
    together = np.array([row["embedding"] for row in body["data"]], dtype=np.float32)
    alone = np.array(
        [post(embedding_engine, {"model": str(tiny_bert_dir), "input": [t]})[1]["data"][0]["embedding"]
         for t in batch],
        dtype=np.float32,
    )  # fmt: skip
    np.testing.assert_allclose(together, alone, atol=2e-3)
    np.testing.assert_allclose(np.linalg.norm(together, axis=1), 1.0, atol=2e-3)
    # the loader the embedding job uses gives the same rows (what the search compares against)
    worker = Embedder.load(tiny_bert_dir, device="cpu").embed(batch).astype(np.float32)
    np.testing.assert_allclose(together, worker, atol=2e-3)
    assert len(set(map(tuple, together.round(3)))) == len(batch)  # the texts differ, so do rows


def test_it_accepts_one_text_as_a_string(embedding_engine, tiny_bert_dir):  # noqa: F811
    status, body = post(embedding_engine, {"model": str(tiny_bert_dir), "input": "refund"})
    assert status == 200 and len(body["data"]) == 1 and len(body["data"][0]["embedding"]) == 32


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        ([], f"list of 1 to {MAX_INPUTS} texts"),
        (["x"] * (MAX_INPUTS + 1), f"list of 1 to {MAX_INPUTS} texts"),
        ({"text": "x"}, f"list of 1 to {MAX_INPUTS} texts"),
        (["ok", 3], "input[1] must be a non-empty string"),
        (["ok", ""], "input[1] must be a non-empty string"),
        (["ok", "a" * (MAX_INPUT_CHARS + 1)], f"input[1] has {MAX_INPUT_CHARS + 1} characters"),
    ],
)
def test_it_refuses_input_past_the_limits(embedding_engine, tiny_bert_dir, inputs, message):  # noqa: F811
    status, answer = post(embedding_engine, {"model": str(tiny_bert_dir), "input": inputs})
    assert status == 400
    assert message in answer["error"]


def test_it_refuses_a_request_without_a_model(embedding_engine):  # noqa: F811
    status, answer = post(embedding_engine, {"input": ["x"]})
    assert status == 400 and "model must be a string" in answer["error"]


def test_it_refuses_a_body_that_is_not_json(embedding_engine):  # noqa: F811
    status, answer = post(embedding_engine, b"{not json")
    assert status == 400 and "JSON object" in answer["error"]


def test_it_refuses_a_model_it_does_not_offer(embedding_engine, tmp_path):  # noqa: F811
    status, answer = post(embedding_engine, {"model": str(tmp_path), "input": ["x"]})
    assert status == 404
    assert "FINETUNEDB_EMBEDDING_MODELS" in answer["error"] and str(tmp_path) in answer["error"]


def test_it_refuses_bundled_weights_that_were_changed(tmp_path, tiny_bert_dir):  # noqa: F811
    # An extracted bundled folder whose weights are not the pinned ones (swapped or damaged).
    folder = tmp_path / "models" / "embeddings" / BUNDLED_EMBEDDING_MODEL
    shutil.copytree(tiny_bert_dir, folder)
    (folder / COMPLETE_MARKER).write_text("extracted\n")
    service = EmbeddingService(models_dir=tmp_path / "models", registered=[])
    status, answer = service.answer(json.dumps({"model": BUNDLED_EMBEDDING_MODEL, "input": ["x"]}))
    assert status == 503
    assert "could not be loaded" in answer["error"] and "log" in answer["error"]
    assert str(tmp_path) not in answer["error"]  # the path is for the engine's log only


@given(st.lists(st.text(min_size=1, max_size=50), min_size=1, max_size=MAX_INPUTS))
def test_it_parses_every_list_within_the_limits_unchanged(items):
    assert embed_input_parse({"model": "m", "input": items}) == ("m", items)


@given(
    st.lists(st.text(min_size=1, max_size=5), min_size=1, max_size=10),
    st.integers(min_value=0, max_value=9),
)
def test_it_names_the_first_text_that_is_too_long(items, at):
    at = min(at, len(items))
    long = [*items[:at], "x" * 30, *items[at:]]
    with pytest.raises(EmbedRefused, match=rf"^input\[{at}\] has 30 characters; at most 20"):
        embed_input_parse({"model": "m", "input": long}, max_chars=20)


def test_it_keeps_django_out_of_the_engine_process():
    # semantic.services is the Django side of the resolver; the engine uses the pure module only
    code = (
        "import sys\nimport serving.engine.server\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('django', 'rest_framework', 'datasets_app') or m.startswith('semantic.services')))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip().splitlines()[-1] == "[]"


@given(st.text(max_size=5), st.text(max_size=5), st.sampled_from(["\ud800", "\udfff", "\udc00"]))
def test_it_refuses_a_text_with_a_lone_surrogate_naming_it(before, after, surrogate):
    # JSON's "\ud800" escape decodes to a lone surrogate, which no tokenizer can encode (the
    # engine answered 500 TypeError): a 400 naming the text and the character instead.
    text = before + surrogate + after
    at = text.index(surrogate)
    with pytest.raises(EmbedRefused, match=rf"^input\[1\] is not valid Unicode: character {at}"):
        embed_input_parse({"model": "m", "input": ["ok", text]})


def test_it_refuses_a_body_nested_too_deep_with_a_400():
    # json.loads raises RecursionError, not ValueError: the engine dropped the connection.
    service = EmbeddingService(models_dir=Path("/nonexistent"), registered=[])
    status, answer = service.answer(b"[" * 100_000 + b"]" * 100_000)
    assert status == 400 and "JSON object" in answer["error"] and "nested" in answer["error"]


def test_it_answers_a_bad_content_length_with_a_400(embedding_engine):  # noqa: F811
    import http.client
    import urllib.parse

    url = urllib.parse.urlparse(embedding_engine)
    for length in ("abc", "-1", "1e3"):
        connection = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
        connection.putrequest("POST", "/embed")
        connection.putheader("Content-Length", length)
        connection.endheaders()
        response = connection.getresponse()
        assert response.status in (400, 413), length
        assert "Content-Length" in json.loads(response.read())["error"]
        connection.close()
