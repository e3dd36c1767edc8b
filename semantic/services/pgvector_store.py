"""Embeddings in PostgreSQL through the pgvector extension, next to the float16 matrix files.

Where the database is PostgreSQL and ``CREATE EXTENSION IF NOT EXISTS vector`` succeeds
(detected once per process and database; scripts/pgvector.sh installs the extension), the
embedding job also writes each dataset's rows into ``semantic_vector`` — one row per (dataset,
model, example): its current revision and its vector as ``halfvec`` (the same float16 values as
the matrix file) — and semantic search and semantic duplicates read them instead of the file,
so a web process needs no matrix fetched from the store nor held in memory.

No divergence from the file path, by construction: every score is the file path's exact float32
dot product (semantic/vectors.py), recomputed here from the same float16 values. Search ranks a
dataset of up to EXACT_SEARCH_ROWS rows by an exact scan in PostgreSQL (index scans off: the
same top k as the file); a larger one takes twice k candidates from the HNSW index
(``halfvec_cosine_ops``, one partial index per model and dimension) and re-ranks them — an
approximate search, measured in docs/benchmarks.md ("pgvector"). Duplicates read the rows and run the same
LSH candidates and exact verification as the file path (HNSW neighbour lists found fewer of the
exact pairs than the LSH, and more slowly, on 5k and 20k rows).

The tables are managed here, not by Django migrations (migration 0003 creates them when the
extension is there; ``pgvector_sync`` creates them when it appears later): ``semantic_vector``
and ``semantic_vector_state``, which names the embedding job whose generation the rows hold.
Readers use the rows only when that job is the dataset's latest successful one, so a dataset
embedded before the extension was installed keeps using its file until its next job. Statement
triggers on the example and dataset tables delete the rows of deleted examples and datasets
(no foreign keys: Django's test flush truncates its own tables without CASCADE).
"""

from __future__ import annotations

import hashlib
import logging
import threading

import numpy as np
from django.conf import settings
from django.db import DatabaseError, connections, transaction

from ..vectors import duplicate_pairs
from .embedding_models import embedding_model_key

logger = logging.getLogger(__name__)

LOCK = 0x5E3A17C5  # advisory lock id: one process creates tables and indexes at a time
# An exact scan of 100k 384-d halfvec rows takes ~60 ms here (the matrix file's top_k as much);
# the HNSW index answers in a quarter of that but missed 13 % of an exact top 50 on 100k
# clustered rows (bench/semantic_pgvector.py), so it only serves datasets past where a scan is
# too slow for a search box (~0.3 s).
EXACT_SEARCH_ROWS = 500_000
EF_SEARCH = 100  # the fewest candidates a search reads
MAX_EF_SEARCH = 1000  # pgvector's ceiling, for hnsw.ef_search and for the candidates
HNSW_M, HNSW_EF_CONSTRUCTION = 16, 64  # pgvector's defaults, written out

_available: dict[tuple[str, str], bool] = {}
_available_lock = threading.Lock()


def schema_sql(*, example_table: str, dataset_table: str) -> list[str]:
    """The statements that create the tables and triggers (idempotent)."""
    return [
        """CREATE TABLE IF NOT EXISTS semantic_vector (
            dataset_id bigint NOT NULL,
            model_key varchar(100) NOT NULL,
            example_id bigint NOT NULL,
            revision_id bigint NOT NULL,
            embedding halfvec NOT NULL,
            PRIMARY KEY (dataset_id, model_key, example_id))""",
        "CREATE INDEX IF NOT EXISTS semantic_vector_example ON semantic_vector (example_id)",
        """CREATE TABLE IF NOT EXISTS semantic_vector_state (
            dataset_id bigint NOT NULL,
            model_key varchar(100) NOT NULL,
            job_id bigint NOT NULL,
            row_count bigint NOT NULL DEFAULT 0,
            PRIMARY KEY (dataset_id, model_key))""",
        "ALTER TABLE semantic_vector_state ADD COLUMN IF NOT EXISTS row_count bigint NOT NULL DEFAULT 0",
        """CREATE OR REPLACE FUNCTION semantic_vector_examples_gone() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
              DELETE FROM semantic_vector v USING gone WHERE v.example_id = gone.id;
              RETURN NULL;
            END $$""",
        f"""CREATE OR REPLACE TRIGGER semantic_vector_examples_gone AFTER DELETE ON {example_table}
            REFERENCING OLD TABLE AS gone FOR EACH STATEMENT
            EXECUTE FUNCTION semantic_vector_examples_gone()""",
        """CREATE OR REPLACE FUNCTION semantic_vector_datasets_gone() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
              DELETE FROM semantic_vector v USING gone WHERE v.dataset_id = gone.id;
              DELETE FROM semantic_vector_state s USING gone WHERE s.dataset_id = gone.id;
              RETURN NULL;
            END $$""",
        f"""CREATE OR REPLACE TRIGGER semantic_vector_datasets_gone AFTER DELETE ON {dataset_table}
            REFERENCING OLD TABLE AS gone FOR EACH STATEMENT
            EXECUTE FUNCTION semantic_vector_datasets_gone()""",
    ]


def schema_create(cursor, *, example_table: str, dataset_table: str) -> None:
    cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK])
    for statement in schema_sql(example_table=example_table, dataset_table=dataset_table):
        cursor.execute(statement)


def extension_create(connection) -> bool:
    """``CREATE EXTENSION IF NOT EXISTS vector`` in a savepoint: True when it is there now."""
    try:
        with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
            cursor.execute("CREATE EXTENSION IF NOT EXISTS vector")
        return True
    except DatabaseError as exc:
        logger.warning("pgvector not available (%s); semantic search uses the matrix files", exc)
        return False


def pgvector_enabled(using: str = "default") -> bool:
    """PostgreSQL with the extension installable (once per process and database), unless the
    deployment turned it off (``FINETUNEDB_PGVECTOR = False``)."""
    if not getattr(settings, "FINETUNEDB_PGVECTOR", True):
        return False
    connection = connections[using]
    if connection.vendor != "postgresql":
        return False
    key = (using, str(connection.settings_dict.get("NAME")))
    with _available_lock:
        if key not in _available:
            _available[key] = extension_create(connection)
        return _available[key]


def _tables() -> tuple[str, str]:
    from datasets_app.models import Dataset, Example

    return Example._meta.db_table, Dataset._meta.db_table


def _quote(value: str) -> str:
    # Model keys are [A-Za-z0-9._-] (embedding_model_key); quoted anyway.
    return "'" + value.replace("'", "''") + "'"


def _index_name(key: str, dimension: int) -> str:
    return f"semantic_vector_hnsw_{hashlib.sha256(key.encode()).hexdigest()[:12]}_{int(dimension)}"


def _vector_cursor(connection):
    """A psycopg cursor on Django's connection (same transaction) that sends and reads halfvec
    in binary. Types are looked up per cursor: the extension's type ids change when it is
    dropped and created again."""
    import psycopg
    from pgvector.psycopg.halfvec import register_halfvec_info
    from psycopg.types import TypeInfo

    connection.ensure_connection()
    info = TypeInfo.fetch(connection.connection, "halfvec")
    if info is None:
        raise DatabaseError("the pgvector extension has no halfvec type (pgvector >= 0.7 needed)")
    cursor = psycopg.Cursor(connection.connection)
    register_halfvec_info(cursor, info)
    return cursor


def pgvector_sync(
    *,
    job_id: int,
    dataset_id: int,
    model_name: str,
    vectors: np.ndarray,
    revisions: list[int],
    examples: list[int],
    using: str = "default",
) -> None:
    """Make the dataset's rows equal the generation the job just wrote to its file: rows of
    examples no longer in it go, rows whose revision changed (or that are missing) are written,
    unchanged rows are left alone; then the state names ``job_id``. One transaction."""
    if not pgvector_enabled(using):
        return
    key = embedding_model_key(model_name)
    connection = connections[using]
    dimension = int(vectors.shape[1]) if vectors.ndim == 2 and len(vectors) else 0
    try:
        _sync(connection, job_id, dataset_id, key, dimension, vectors, revisions, examples)
    except DatabaseError:
        # The file holds the generation; readers keep using it (the state names an older job).
        logger.exception("pgvector: could not write dataset %s's embeddings", dataset_id)


def _schema_ready(connection, index: str | None) -> bool:
    """The tables, the triggers and ``index`` (when given) are there (one catalogue query)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT to_regclass('semantic_vector') IS NOT NULL"
            " AND EXISTS (SELECT 1 FROM information_schema.columns WHERE table_schema ="
            " current_schema() AND table_name = 'semantic_vector_state' AND column_name = 'row_count')"
            " AND (SELECT count(*) FROM pg_trigger WHERE tgname IN"
            " ('semantic_vector_examples_gone', 'semantic_vector_datasets_gone')) = 2"
            " AND (%s::text IS NULL OR to_regclass(%s::text) IS NOT NULL)",
            [index, index],
        )
        return bool(cursor.fetchone()[0])


def _sync(connection, job_id, dataset_id, key, dimension, vectors, revisions, examples) -> None:
    from pgvector import HalfVector

    index = _index_name(key, dimension) if dimension else None
    if not _schema_ready(connection, index):
        # Its own short transaction: the triggers' DDL locks the example table, which the long
        # row writes below must not hold.
        with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
            example_table, dataset_table = _tables()
            schema_create(cursor, example_table=example_table, dataset_table=dataset_table)
            if index:
                cursor.execute(
                    f"CREATE INDEX IF NOT EXISTS {index} ON semantic_vector "
                    f"USING hnsw ((embedding::halfvec({dimension})) halfvec_cosine_ops) "
                    f"WITH (m = {HNSW_M}, ef_construction = {HNSW_EF_CONSTRUCTION}) "
                    f"WHERE model_key = {_quote(key)}"
                )
    with transaction.atomic(using=connection.alias):
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT example_id, revision_id FROM semantic_vector WHERE dataset_id = %s AND model_key = %s",
                [dataset_id, key],
            )
            stored = dict(cursor.fetchall())
            cursor.execute(
                "DELETE FROM semantic_vector WHERE dataset_id = %s AND model_key = %s "
                "AND NOT (example_id = ANY(%s))",
                [dataset_id, key, list(map(int, examples))],
            )
        changed = [
            i
            for i, (ex, rev) in enumerate(zip(examples, revisions, strict=True))
            if stored.get(int(ex)) != int(rev)
        ]
        if changed:
            with _vector_cursor(connection) as cur:
                cur.executemany(
                    "INSERT INTO semantic_vector (dataset_id, model_key, example_id, revision_id, embedding) "
                    "VALUES (%s, %s, %s, %s, %b) ON CONFLICT (dataset_id, model_key, example_id) "
                    "DO UPDATE SET revision_id = EXCLUDED.revision_id, embedding = EXCLUDED.embedding",
                    [
                        (
                            dataset_id,
                            key,
                            int(examples[i]),
                            int(revisions[i]),
                            HalfVector(vectors[i]),
                        )
                        for i in changed
                    ],
                )
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO semantic_vector_state (dataset_id, model_key, job_id, row_count) "
                "VALUES (%s, %s, %s, %s) ON CONFLICT (dataset_id, model_key) "
                "DO UPDATE SET job_id = EXCLUDED.job_id, row_count = EXCLUDED.row_count",
                [dataset_id, key, job_id, len(examples)],
            )


def pgvector_current(*, dataset_id: int, model_name: str, using: str = "default") -> int | None:
    """The number of rows when they hold the generation of the dataset's latest successful
    embedding job (with ``model_name``), else None: only then do readers take them instead of
    the file."""
    from ..models import EmbeddingJob, EmbeddingStatus

    if not pgvector_enabled(using):
        return None
    latest = (
        EmbeddingJob.objects.using(using)
        .filter(dataset_id=dataset_id, status=EmbeddingStatus.SUCCEEDED)
        .order_by("-id")
        .values_list("id", "model_name")
        .first()
    )
    if latest is None or latest[1] != model_name:
        return None
    with connections[using].cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", ["semantic_vector_state"])
        if not cursor.fetchone()[0]:
            return None
        cursor.execute(
            "SELECT job_id, row_count FROM semantic_vector_state "
            "WHERE dataset_id = %s AND model_key = %s",
            [dataset_id, embedding_model_key(model_name)],
        )
        row = cursor.fetchone()
    return row[1] if row is not None and row[0] == latest[0] else None


def pgvector_dimension(*, dataset_id: int, model_name: str, using: str = "default") -> int | None:
    """The length of the dataset's stored rows for ``model_name`` (one row read), None when it
    has none: a query of another length must be refused before it reaches a ``halfvec(n)``
    cast, which would be a database error."""
    with connections[using].cursor() as cursor:
        cursor.execute(
            "SELECT vector_dims(embedding) FROM semantic_vector "
            "WHERE dataset_id = %s AND model_key = %s LIMIT 1",
            [dataset_id, embedding_model_key(model_name)],
        )
        row = cursor.fetchone()
    return None if row is None else int(row[0])


def _scores(vectors: list, query: np.ndarray) -> np.ndarray:
    # The file path's arithmetic (semantic/vectors.py): float16 rows as float32, dot product.
    rows = np.stack([v.to_numpy() for v in vectors]).astype(np.float32)
    return rows @ np.asarray(query, dtype=np.float32).reshape(-1)


def pgvector_top_k(
    *,
    dataset_id: int,
    model_name: str,
    query: np.ndarray,
    k: int,
    rows: int,
    using: str = "default",
) -> list[tuple[int, int, float]]:
    """``(revision id, example id, cosine)`` of the ``k`` rows nearest ``query``, best first, by
    the file path's exact score. ``rows`` (pgvector_current's answer) picks the plan: an exact
    scan up to EXACT_SEARCH_ROWS, else the HNSW index."""
    from pgvector import HalfVector

    query = np.asarray(query, dtype=np.float32).reshape(-1)
    dimension, key = len(query), embedding_model_key(model_name)
    if k <= 0:
        return []
    # Twice k by pgvector's distance (a float16 query, norms), re-ranked by the exact score:
    # rows at the edge of the k-th, where the two orders can differ, come back in.
    candidates = min(MAX_EF_SEARCH, max(EF_SEARCH, 2 * k))
    connection = connections[using]
    with transaction.atomic(using=using), _vector_cursor(connection) as cur:
        if rows <= EXACT_SEARCH_ROWS:
            cur.execute("SET LOCAL enable_indexscan = off")  # the HNSW index is approximate
        else:
            # The widest search pgvector allows: at ef 100 the index found 81 % of an exact top
            # 50 on 20k clustered rows, at 1000 98.6 % (bench/semantic_pgvector.py).
            cur.execute(f"SET LOCAL hnsw.ef_search = {MAX_EF_SEARCH}")
            # relaxed_order: the index keeps scanning until enough rows of this dataset are found.
            cur.execute("SET LOCAL hnsw.iterative_scan = relaxed_order")
        cur.execute(
            f"SELECT revision_id, example_id, embedding FROM semantic_vector "  # noqa: S608 (ints, quoted key)
            f"WHERE model_key = {_quote(key)} AND dataset_id = %s "
            f"ORDER BY embedding::halfvec({dimension}) <=> %b::halfvec({dimension}) LIMIT %s",
            [dataset_id, HalfVector(query), max(int(k), candidates)],
            binary=True,
        )
        found = cur.fetchall()
    if not found:
        return []
    scores = _scores([v for _, _, v in found], query)
    order = sorted(range(len(found)), key=lambda i: (-scores[i], found[i][0]))[:k]
    return [(int(found[i][0]), int(found[i][1]), float(scores[i])) for i in order]


def pgvector_duplicate_pairs(
    *,
    dataset_id: int,
    model_name: str,
    revisions: set[int],
    threshold: float,
    using: str = "default",
) -> dict[tuple[int, int], float]:
    """``{(example a, example b): cosine}`` for ``a < b`` among the rows whose revision is in
    ``revisions``: the rows read from PostgreSQL, then the file path's LSH candidates and exact
    verification (semantic/vectors.duplicate_pairs: a row's buckets do not depend on the row
    order, so the pairs are the file path's)."""
    key = embedding_model_key(model_name)
    with transaction.atomic(using=using), _vector_cursor(connections[using]) as cur:
        cur.execute(
            "SELECT example_id, revision_id, embedding FROM semantic_vector "
            "WHERE model_key = %s AND dataset_id = %s ORDER BY example_id",
            [key, dataset_id],
            binary=True,
        )
        rows = [(ex, vec) for ex, rev, vec in cur.fetchall() if rev in revisions]
    if len(rows) < 2:
        return {}
    matrix = np.stack([vec.to_numpy() for _, vec in rows])
    examples = [ex for ex, _ in rows]
    return {
        (examples[i], examples[j]): s for (i, j), s in duplicate_pairs(matrix, threshold).items()
    }
