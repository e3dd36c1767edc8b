"""pgvector against the float16 matrix file (issue 22): the same searches and duplicates, timed.

Rows: ``--rows`` unit 384-d vectors (all-MiniLM-L6-v2's width) in topics of ~20 near neighbours,
written once as the embedding job writes them (semantic/services/pgvector_store.pgvector_sync);
queries are rows with noise. Figures, each against the file path in the same run:

1. search, top 50: pgvector's exact scan (the plan up to 100k rows) vs semantic/vectors.top_k over
   the matrix — time ratio, and the overlap of the two top-50 lists (must be 1.0);
2. search through the HNSW index (the plan above 100k rows, forced here) — time ratio and recall;
3. semantic duplicates at 0.9: rows read from PostgreSQL + the LSH vs the LSH over the matrix —
   time ratio, and whether the pairs are equal;
4. the embedding job's write after 1 % of the examples were edited, vs the first write.

Needs PostgreSQL with the extension: DATABASE_URL, or none and scripts/postgres.sh starts a
private one (and scripts/pgvector.sh builds the extension) on port 54349.

    .venv/bin/python bench/semantic_pgvector.py --rows 20000
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

MODEL = "all-MiniLM-L6-v2"
DIM = 384
K = 50


def database_url() -> tuple[str, bool]:
    if os.environ.get("DATABASE_URL", "").startswith("postgres"):
        return os.environ["DATABASE_URL"], False
    env = {**os.environ, "FINETUNEDB_PG_PORT": "54349"}
    out = subprocess.run(
        [ROOT / "scripts" / "postgres.sh", "start"], env=env, check=True, capture_output=True
    )
    return out.stdout.decode().strip().splitlines()[-1], True


def timed(fn, repeat: int = 1) -> tuple[float, object]:
    start = time.perf_counter()
    for _ in range(repeat):
        result = fn()
    return (time.perf_counter() - start) / repeat, result


def line(name: str, value: float, baseline: float, target: str, ok: bool, unit: str = "s") -> None:
    ratio = value / baseline if baseline else float("inf")
    print(
        f"BENCH {name} value={value:.4f}{unit} baseline={baseline:.4f}{unit} ratio={ratio:.2f} "
        f"target={target} pass={'yes' if ok else 'no'}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20000)
    parser.add_argument("--queries", type=int, default=20)
    args = parser.parse_args()

    url, started = database_url()
    os.environ.update(
        DATABASE_URL=url,
        DJANGO_SETTINGS_MODULE="finetunedb.settings.dev",
        DATA_DIR=tempfile.mkdtemp(prefix="bench-pgvector-"),
        HF_HUB_OFFLINE="1",
    )
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)
    from django.db import connection

    from semantic.services import pgvector_store as pg
    from semantic.vectors import duplicate_pairs, top_k

    if not pg.pgvector_enabled():
        print("the pgvector extension is not available on", url, file=sys.stderr)
        return 2
    n = args.rows
    rng = np.random.default_rng(0)
    topics = rng.standard_normal((max(1, n // 20), DIM))
    vectors = topics[rng.integers(0, len(topics), n)] + 0.25 * rng.standard_normal((n, DIM))
    vectors = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float16)
    dataset = 10**9 + n  # rows only: no example or dataset rows are needed to search them
    ids = list(range(1, n + 1))
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM semantic_vector WHERE dataset_id = %s", [dataset])

    def write(job, revisions):
        pg.pgvector_sync(
            job_id=job, dataset_id=dataset, model_name=MODEL, vectors=vectors,
            revisions=revisions, examples=ids,
        )  # fmt: skip

    first, _ = timed(lambda: write(1, ids))
    edited = list(ids)
    for i in rng.choice(n, max(1, n // 100), replace=False):
        edited[i] = n + 1 + int(i)  # a new revision of that example
    again, _ = timed(lambda: write(2, edited))
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE semantic_vector")

    queries = vectors[rng.integers(0, n, args.queries)].astype(np.float32)
    queries += 0.5 * rng.standard_normal(queries.shape).astype(np.float32) / np.sqrt(DIM)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)

    def search_all(rows_for_plan):
        return [
            pg.pgvector_top_k(
                dataset_id=dataset, model_name=MODEL, query=q, k=K, rows=rows_for_plan
            )
            for q in queries
        ]

    file_s, file_hits = timed(lambda: [top_k(vectors, q, K)[0] for q in queries])
    exact_s, exact_hits = timed(lambda: search_all(0))  # 0 rows: the exact plan
    saved = pg.EXACT_SEARCH_ROWS
    pg.EXACT_SEARCH_ROWS = -1  # the HNSW plan, whatever the size
    hnsw_s, hnsw_hits = timed(lambda: search_all(n))
    pg.EXACT_SEARCH_ROWS = saved

    def overlap(hits) -> float:
        got = sum(
            len({ex for _, ex, _ in mine} & {int(r) + 1 for r in theirs})
            for mine, theirs in zip(hits, file_hits, strict=True)
        )
        return got / (K * len(queries))

    file_dup_s, file_pairs = timed(lambda: duplicate_pairs(vectors, 0.9))
    pg_dup_s, pg_pairs = timed(
        lambda: pg.pgvector_duplicate_pairs(
            dataset_id=dataset, model_name=MODEL, revisions=set(edited), threshold=0.9
        )
    )
    same_pairs = {(i + 1, j + 1) for i, j in file_pairs} == set(pg_pairs)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM semantic_vector WHERE dataset_id = %s", [dataset])
        cursor.execute("DELETE FROM semantic_vector_state WHERE dataset_id = %s", [dataset])

    print(f"rows={n} dim={DIM} queries={len(queries)} k={K} pairs={len(file_pairs)}")
    q = len(queries)
    line("pgvector_search_exact", exact_s / q, file_s / q, "<=3", exact_s <= 3 * file_s)
    print(f"BENCH pgvector_search_exact_overlap value={overlap(exact_hits):.4f} target=1.0 "
          f"pass={'yes' if overlap(exact_hits) == 1.0 else 'no'}")  # fmt: skip
    line("pgvector_search_hnsw", hnsw_s / q, file_s / q, "<=3", hnsw_s <= 3 * file_s)
    print(f"BENCH pgvector_search_hnsw_recall value={overlap(hnsw_hits):.4f} target>=0.95 "
          f"pass={'yes' if overlap(hnsw_hits) >= 0.95 else 'no'}")  # fmt: skip
    line("pgvector_dedup", pg_dup_s, file_dup_s, "<=2", pg_dup_s <= 2 * file_dup_s)
    print(f"BENCH pgvector_dedup_same_pairs value={same_pairs} target=True "
          f"pass={'yes' if same_pairs else 'no'}")  # fmt: skip
    line("pgvector_rewrite_1pct", again, first, "<=0.2", again <= 0.2 * first)
    if started:
        subprocess.run(
            [ROOT / "scripts" / "postgres.sh", "stop"],
            env={**os.environ, "FINETUNEDB_PG_PORT": "54349"},
            check=False,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
