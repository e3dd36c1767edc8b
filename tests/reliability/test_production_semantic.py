"""Semantic search and semantic duplicates on the production stack (``scripts/test.sh
production``), through pgvector: scripts/postgres.sh builds the extension (scripts/pgvector.sh),
the training worker embeds a dataset with the bundled model and writes its rows into PostgreSQL,
and with the published matrix files removed from the object store the web still ranks by
meaning and the default worker still finds the paraphrases — only the rows can answer."""

from __future__ import annotations

import os
from urllib.parse import parse_qs, urlsplit

import orjson
import pytest

from . import test_production_stack as stack
from .test_production_stack import _dataset, _finished_import, _get, _import, _poll, _post

http, team_id = stack.http, stack.team_id  # the stack's module fixtures, shared

pytestmark = [
    pytest.mark.production,
    pytest.mark.skipif(
        "FINETUNEDB_URL" not in os.environ, reason="needs scripts/test.sh production"
    ),
]

PARAPHRASES = [
    ("How can I get my money back for this order?", "I would like a refund for my purchase."),
    ("My password stopped working, how do I reset it?", "I forgot my login, can I change it?"),
]
UNRELATED = ["What will the weather be like tomorrow?", "Give me a recipe for a chocolate cake."]
TEXTS = [t for pair in PARAPHRASES for t in pair] + UNRELATED


def _sql(query: str, params) -> list[tuple]:
    import psycopg

    with psycopg.connect(os.environ["DATABASE_URL"]) as conn:
        return conn.execute(query, params).fetchall()


@pytest.fixture(scope="module")
def embedded(http, team_id):
    dataset_id = _dataset(http, team_id, "production-semantic")
    body = b"".join(
        orjson.dumps(
            {
                "messages": [
                    {"role": "user", "content": t},
                    {"role": "assistant", "content": "Sure."},
                ]
            }
        )
        + b"\n"
        for t in TEXTS
    )
    job = _finished_import(http, _import(http, dataset_id, body)["id"])
    assert job["status"] == "succeeded", job
    embedding = _post(http, f"/datasets/{dataset_id}/embeddings/", json={}, expect=(202,)).json()
    done = _poll(
        http,
        f"/embedding-jobs/{embedding['id']}/",
        lambda j: j["status"] in ("succeeded", "failed"),
        "embedding job",
    )
    assert done["status"] == "succeeded", done["failure_reason"]
    examples = _get(http, f"/datasets/{dataset_id}/examples/", params={"page_size": 50}).json()
    by_text = {row["messages"][0]["content"]: row["id"] for row in examples["results"]}
    return dataset_id, done["id"], by_text


def test_it_writes_the_embeddings_into_pgvector(embedded):
    dataset_id, job_id, by_text = embedded
    rows = _sql(
        "SELECT example_id, vector_dims(embedding::vector) FROM semantic_vector "
        "WHERE dataset_id = %s",
        [dataset_id],
    )
    assert sorted(ex for ex, _ in rows) == sorted(by_text.values())
    assert {dims for _, dims in rows} == {384}  # all-MiniLM-L6-v2
    state = _sql("SELECT job_id FROM semantic_vector_state WHERE dataset_id = %s", [dataset_id])
    assert state == [(job_id,)]
    indexes = _sql(
        "SELECT indexdef FROM pg_indexes WHERE tablename = 'semantic_vector' AND indexdef LIKE %s",
        ["%USING hnsw%halfvec_cosine_ops%"],
    )
    assert indexes


def test_it_searches_and_deduplicates_from_pgvector_alone(http, team_id, embedded):
    import boto3

    dataset_id, _, by_text = embedded
    # The matrix files the worker published: gone, so the file path has nothing to read.
    url = urlsplit(os.environ["STORAGE_URL"])
    s3 = boto3.client("s3", endpoint_url=parse_qs(url.query)["endpoint_url"][0])
    prefix = f"teams/{team_id}/embeddings/dataset-{dataset_id}-"
    listed = s3.list_objects_v2(Bucket=url.hostname, Prefix=prefix).get("Contents", [])
    assert listed, "the embedding worker published nothing to the object store"
    for item in listed:
        s3.delete_object(Bucket=url.hostname, Key=item["Key"])

    found = _get(
        http,
        f"/datasets/{dataset_id}/examples/",
        params={"semantic": "I want a refund, please return my money"},
    ).json()["results"]
    top = {row["id"] for row in found[:2]}
    assert top == {by_text[PARAPHRASES[0][0]], by_text[PARAPHRASES[0][1]]}, found

    job = _post(
        http, f"/datasets/{dataset_id}/dedup/", json={"method": "semantic", "threshold": 0.5}
    ).json()
    done = _poll(
        http,
        f"/dedup-jobs/{job['id']}/",
        lambda j: j["status"] in ("succeeded", "failed"),
        "semantic dedup",
    )
    assert done["status"] == "succeeded", done
    clusters = _get(http, f"/datasets/{dataset_id}/duplicate-clusters/").json()["results"]
    groups = sorted(sorted(m["example"] for m in c["members"]) for c in clusters)
    expected = sorted(sorted(by_text[t] for t in pair) for pair in PARAPHRASES)
    assert groups == expected
