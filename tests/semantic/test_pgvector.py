"""pgvector on the PostgreSQL lane (scripts/test.sh postgres; scripts/pgvector.sh installs the
extension): the embedding job writes one row per example into ``semantic_vector``, an edit
rewrites one row, deleting examples or a dataset removes theirs; semantic search and semantic
duplicates read the rows through the HNSW index and give the same results as the float16 matrix
file for the same data; a dataset whose rows are not its latest job's keeps using the file."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from django.db import connection

from datasets_app.models import Example
from datasets_app.services.datasets import dataset_delete
from datasets_app.services.examples import example_update
from semantic.models import EmbeddingJob
from semantic.services import jobs, pgvector_store
from semantic.services.duplicates import semantic_duplicate_pairs
from semantic.services.embedding_models import embeddings_folder
from semantic.services.pgvector_store import (
    pgvector_current,
    pgvector_duplicate_pairs,
    pgvector_enabled,
    pgvector_sync,
    pgvector_top_k,
)
from semantic.store import embeddings_read, embeddings_write
from semantic.vectors import exact_duplicate_pairs, top_k

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

MODEL = "all-MiniLM-L6-v2"


@pytest.fixture
def pgvector(db):
    if connection.vendor != "postgresql":
        pytest.skip("pgvector needs PostgreSQL (scripts/test.sh postgres)")
    if not pgvector_enabled():
        pytest.skip("the pgvector extension is not installed (scripts/pgvector.sh)")


def chat(q: str, a: str = "ok") -> list[dict]:
    return [{"role": "user", "content": q}, {"role": "assistant", "content": a}]


def rows_of(dataset_id: int) -> dict[int, tuple[int, int]]:
    """example id -> (revision id, xmin): xmin changes only when the row is written."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT example_id, revision_id, xmin::text::bigint FROM semantic_vector "
            "WHERE dataset_id = %s",
            [dataset_id],
        )
        return {ex: (rev, xmin) for ex, rev, xmin in cursor.fetchall()}


def stored_vectors(dataset_id: int) -> dict[int, np.ndarray]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT example_id, embedding::text FROM semantic_vector WHERE dataset_id = %s",
            [dataset_id],
        )
        return {
            ex: np.asarray([float(x) for x in text.strip("[]").split(",")], dtype=np.float16)
            for ex, text in cursor.fetchall()
        }


@pytest.fixture
def run_job(embedding_settings, tiny_bert_dir, monkeypatch, django_capture_on_commit_callbacks):
    monkeypatch.setattr(jobs, "embedding_job_enqueue", lambda pk: None)

    def run(owner, dataset) -> EmbeddingJob:
        with django_capture_on_commit_callbacks(execute=True):
            job = jobs.embedding_job_create(user=owner, dataset=dataset, model=str(tiny_bert_dir))
        jobs.embedding_job_run(job_id=job.pk)
        job.refresh_from_db()
        assert job.status == "succeeded", job.failure_reason
        return job

    run.model = str(tiny_bert_dir)
    return run


def test_it_writes_one_row_per_example_and_rewrites_only_an_edited_one(
    pgvector, run_job, owner, dataset, make_example, tiny_bert_dir
):
    examples = [
        make_example(dataset, owner, messages=chat(q))
        for q in ("refund my order", "reset my password", "bake a cake")
    ]
    run_job(owner, dataset)
    file = embeddings_read(embeddings_folder(dataset_id=dataset.pk, model_name=str(tiny_bert_dir)))
    before = rows_of(dataset.pk)
    assert sorted(before) == sorted(e.pk for e in examples)
    vectors = stored_vectors(dataset.pk)
    for row, example in enumerate(file.examples.tolist()):
        assert np.array_equal(vectors[example], file.vectors[row])  # the file's float16 values
    assert pgvector_current(dataset_id=dataset.pk, model_name=str(tiny_bert_dir))

    edited = examples[1]
    example_update(
        user=owner,
        example=edited,
        expected_revision=edited.revision,
        changes={"messages": chat("forgot my login email")},
    )
    edited.refresh_from_db()
    run_job(owner, dataset)
    after = rows_of(dataset.pk)
    assert sorted(after) == sorted(before)
    assert after[edited.pk][0] == edited.current_revision_id
    assert after[edited.pk][1] != before[edited.pk][1]  # rewritten
    for other in (examples[0], examples[2]):
        assert after[other.pk] == before[other.pk]  # untouched


def test_it_removes_the_rows_of_deleted_examples_and_datasets(
    pgvector, run_job, owner, dataset, make_example
):
    examples = [make_example(dataset, owner, messages=chat(f"question {i}")) for i in range(4)]
    run_job(owner, dataset)
    assert len(rows_of(dataset.pk)) == 4
    examples[0].delete()
    assert sorted(rows_of(dataset.pk)) == sorted(e.pk for e in examples[1:])
    dataset_delete(user=owner, dataset=dataset)
    assert rows_of(dataset.pk) == {}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM semantic_vector_state WHERE dataset_id = %s", [dataset.pk]
        )
        assert cursor.fetchone()[0] == 0


def planted(dataset, owner, make_example, count=120, dimension=16, seed=0):
    """``count`` examples with given unit vectors: topics with paraphrase-like neighbours, and
    one tight group of 40 near-copies (more than a row's first neighbour list)."""
    rng = np.random.default_rng(seed)
    examples = [make_example(dataset, owner, messages=chat(f"row {i}")) for i in range(count)]
    topics = rng.standard_normal((20, dimension))
    vectors = topics[rng.integers(0, 20, count)] + 0.35 * rng.standard_normal((count, dimension))
    group = min(40, count)
    vectors[:group] = topics[0] + 0.01 * rng.standard_normal((group, dimension))
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    job = EmbeddingJob.objects.create(dataset=dataset, model_name=MODEL, status="succeeded")
    for e in examples:
        e.refresh_from_db()
    revisions = [e.current_revision_id for e in examples]
    ids = [e.pk for e in examples]
    stored = embeddings_write(
        embeddings_folder(dataset_id=dataset.pk, model_name=MODEL),
        vectors=vectors,
        revisions=revisions,
        examples=ids,
    )
    pgvector_sync(
        job_id=job.pk,
        dataset_id=dataset.pk,
        model_name=MODEL,
        vectors=np.asarray(stored.vectors),
        revisions=revisions,
        examples=ids,
    )
    return stored, rng


@pytest.mark.parametrize("plan", ["exact scan", "hnsw"])
def test_it_finds_the_same_neighbours_as_the_matrix_file(
    pgvector, embedding_settings, owner, dataset, make_example, monkeypatch, plan
):
    if plan == "hnsw":  # the plan of a dataset above the exact-scan size
        monkeypatch.setattr(pgvector_store, "EXACT_SEARCH_ROWS", 0)
    stored, rng = planted(dataset, owner, make_example)
    rows_held = pgvector_current(dataset_id=dataset.pk, model_name=MODEL)
    assert rows_held == 120
    for _ in range(10):
        query = rng.standard_normal(16).astype(np.float32)
        query /= np.linalg.norm(query)
        rows, scores = top_k(stored.vectors, query, 25)
        from_file = [(int(stored.revisions[r]), int(stored.examples[r])) for r in rows]
        from_pg = pgvector_top_k(
            dataset_id=dataset.pk, model_name=MODEL, query=query, k=25, rows=rows_held
        )
        assert [(rev, ex) for rev, ex, _ in from_pg] == from_file
        assert [s for _, _, s in from_pg] == pytest.approx(scores.tolist(), abs=1e-6)


def test_it_finds_the_same_semantic_duplicates_as_the_matrix_file(
    pgvector, embedding_settings, owner, dataset, make_example, settings
):
    stored, _ = planted(dataset, owner, make_example)
    exact = exact_duplicate_pairs(stored.vectors, 0.9)
    examples = stored.examples.tolist()
    expected = {(examples[i], examples[j]): s for (i, j), s in exact.items()}
    assert len(expected) > 40 * 39 // 2  # the group of 40 and some paraphrases
    found = pgvector_duplicate_pairs(
        dataset_id=dataset.pk,
        model_name=MODEL,
        revisions=set(stored.revisions.tolist()),
        threshold=0.9,
    )
    assert found.keys() == expected.keys()
    assert [found[p] for p in sorted(found)] == pytest.approx(
        [expected[p] for p in sorted(expected)], abs=1e-6
    )

    # The dedup job's source: pgvector, and the file when turned off — the same pairs.
    through_pg = semantic_duplicate_pairs(dataset_id=dataset.pk, threshold=0.9)
    settings.FINETUNEDB_PGVECTOR = False
    through_file = semantic_duplicate_pairs(dataset_id=dataset.pk, threshold=0.9)
    assert through_pg == through_file
    assert len(through_pg) == len(expected)


def test_it_reads_the_rows_without_the_file(
    pgvector, embedding_settings, owner, dataset, make_example, settings
):
    stored, _ = planted(dataset, owner, make_example, count=50)
    shutil.rmtree(embeddings_folder(dataset_id=dataset.pk, model_name=MODEL))
    assert len(semantic_duplicate_pairs(dataset_id=dataset.pk, threshold=0.9)) >= 40 * 39 // 2
    settings.FINETUNEDB_PGVECTOR = False
    assert semantic_duplicate_pairs(dataset_id=dataset.pk, threshold=0.9) == []


def test_it_keeps_the_file_for_a_dataset_embedded_before_the_extension(
    pgvector, embedding_settings, owner, dataset, make_example
):
    planted(dataset, owner, make_example, count=10)
    assert pgvector_current(dataset_id=dataset.pk, model_name=MODEL)
    # A later job that wrote only its file (pgvector was not there when it ran)
    EmbeddingJob.objects.create(dataset=dataset, model_name=MODEL, status="succeeded")
    assert not pgvector_current(dataset_id=dataset.pk, model_name=MODEL)


def _plan(dataset_id: int, *, exact: bool) -> str:
    with connection.cursor() as cursor:
        if exact:
            cursor.execute("SET LOCAL enable_indexscan = off")
        else:
            cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(
            "EXPLAIN SELECT example_id FROM semantic_vector WHERE model_key = %s "
            "AND dataset_id = %s ORDER BY embedding::halfvec(16) <=> %s::halfvec(16) LIMIT 5",
            [MODEL, dataset_id, "[" + ",".join(["0.25"] * 16) + "]"],
        )
        return "\n".join(row[0] for row in cursor.fetchall())


def test_it_has_an_hnsw_index_that_the_exact_plan_leaves_alone(
    pgvector, embedding_settings, owner, dataset, make_example
):
    planted(dataset, owner, make_example, count=30)
    assert "semantic_vector_hnsw_" in _plan(dataset.pk, exact=False)
    assert "semantic_vector_hnsw_" not in _plan(dataset.pk, exact=True)


QUESTIONS = [
    "how do i get a refund for my order",
    "i want my money back for this order",
    "reset my password please",
    "i forgot my login email",
    "bake a cake with flour and sugar",
    "is it cold or sunny today",
]


def test_it_ranks_the_examples_list_as_the_file_does(
    pgvector, embedding_served, run_job, api_for, owner, outsider, dataset, make_example, settings
):
    examples = [make_example(dataset, owner, messages=chat(q)) for q in QUESTIONS]
    run_job(owner, dataset)
    url = f"/api/v1/datasets/{dataset.pk}/examples/"

    def ranked(text: str) -> list[int]:
        response = api_for(owner).get(url, {"semantic": text})
        assert response.status_code == 200, response.json()
        return [row["id"] for row in response.json()["results"]]

    queries = ["refund my order", "password login", "weather today", QUESTIONS[4]]
    through_pg = [ranked(q) for q in queries]
    settings.FINETUNEDB_PGVECTOR = False
    through_file = [ranked(q) for q in queries]
    assert through_pg == through_file
    assert through_pg[3][0] == examples[4].pk  # its own text first

    # Another team's dataset stays a 404 on the pgvector path too.
    settings.FINETUNEDB_PGVECTOR = True
    assert api_for(outsider).get(url, {"semantic": "refund"}).status_code == 404
    # Only the rows can answer once the file is gone; the file path then has nothing.
    shutil.rmtree(embeddings_folder(dataset_id=dataset.pk, model_name=run_job.model))
    assert ranked(queries[0]) == through_pg[0]
    settings.FINETUNEDB_PGVECTOR = False
    assert api_for(owner).get(url, {"semantic": queries[0]}).status_code == 409


def test_it_creates_its_tables_when_the_extension_came_after_migrate(
    pgvector, embedding_settings, owner, dataset, make_example
):
    with connection.cursor() as cursor:  # as before migration 0003 found the extension
        cursor.execute("DROP TABLE semantic_vector, semantic_vector_state")
        cursor.execute("DROP FUNCTION semantic_vector_examples_gone() CASCADE")
        cursor.execute("DROP FUNCTION semantic_vector_datasets_gone() CASCADE")
    stored, _ = planted(dataset, owner, make_example, count=10)
    assert pgvector_current(dataset_id=dataset.pk, model_name=MODEL) == 10
    assert "semantic_vector_hnsw_" in _plan(dataset.pk, exact=False)
    Example.objects.filter(pk=int(stored.examples[0])).delete()
    assert len(rows_of(dataset.pk)) == 9  # the trigger is back too
