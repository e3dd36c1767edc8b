"""Nearest training examples at 50,000 examples: the n-gram index (evaluation/nearest.py).

Documents: gsm8k train question + answer (../shared/data/gsm8k/train.jsonl, 7,473 rows), repeated
with every number shifted by the copy's index until ``--n`` distinct examples; queries: the
first ``--queries`` gsm8k test questions. Figures: building the index (once per version, then
saved under DATA_DIR/eval-index), saving and loading it, and a query on the loaded index,
against the baseline a plain implementation would do: a scan of every document computing the
Jaccard similarity of word 1-2-gram sets (sets precomputed, so the baseline pays the scan only).

    .venv/bin/python bench/nearest.py --n 50000 --queries 50
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from evaluation.nearest import index_build, index_load, index_query, index_save, ngrams  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "gsm8k"
NUMBER = re.compile(r"\d+")


def read(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


def documents(n: int) -> list[tuple[int, str]]:
    rows = read(DATA / "train.jsonl")
    out = []
    for i in range(n):
        row, copy = rows[i % len(rows)], i // len(rows)
        text = row["question"] + "\n" + row["answer"]
        if copy:
            text = NUMBER.sub(lambda m, c=copy: str(int(m.group()) + c), text)
        out.append((i + 1, text))
    return out


def jaccard_scan(sets: list[tuple[int, frozenset]], query: str, k: int) -> list[int]:
    q = frozenset(ngrams(query))
    scored = [(len(q & s) / len(q | s), doc) for doc, s in sets if q and s]
    scored.sort(key=lambda t: (-t[0], t[1]))
    return [doc for _, doc in scored[:k]]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=50_000)
    parser.add_argument("--queries", type=int, default=50)
    parser.add_argument("--baseline-queries", type=int, default=5)
    args = parser.parse_args()
    if not DATA.is_dir():
        print(f"no data at {DATA}; nothing to measure")
        return 1
    docs = documents(args.n)
    queries = [r["question"] for r in read(DATA / "test.jsonl")[: args.queries]]

    started = time.perf_counter()
    index = index_build(docs)
    build_s = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "index.npz"
        started = time.perf_counter()
        index_save(index, path)
        save_s = time.perf_counter() - started
        size_mb = path.stat().st_size / 1e6
        started = time.perf_counter()
        loaded = index_load(path)
        load_s = time.perf_counter() - started
    times, hits = [], []
    for q in queries:
        started = time.perf_counter()
        hits.append(index_query(loaded, q, k=10))
        times.append(time.perf_counter() - started)
    query_ms = statistics.median(times) * 1000
    p95_ms = sorted(times)[int(0.95 * (len(times) - 1))] * 1000

    sets = [(doc, frozenset(ngrams(text))) for doc, text in docs]
    base_times, overlap = [], []
    for q, got in zip(queries[: args.baseline_queries], hits, strict=False):
        started = time.perf_counter()
        scan = jaccard_scan(sets, q, 10)
        base_times.append(time.perf_counter() - started)
        overlap.append(len(set(scan) & {d for d, _ in got}) / 10)
    base_ms = statistics.median(base_times) * 1000

    print(
        f"{args.n:,} documents, {index.matrix.nnz:,} stored weights, {len(index.terms):,} n-grams"
    )
    print(
        f"index build {build_s:.1f} s, save {save_s:.2f} s ({size_mb:.0f} MB), load {load_s:.2f} s"
    )
    print(
        f"query (loaded index, k=10): median {query_ms:.1f} ms, p95 {p95_ms:.1f} ms over {len(times)}"
    )
    print(
        f"baseline Jaccard scan of every document: median {base_ms:.0f} ms over {len(base_times)}"
    )
    print(f"top-10 shared with the Jaccard scan: {statistics.mean(overlap):.2f} on average")
    ratio = base_ms / query_ms if query_ms else float("inf")
    print(
        f"BENCH nearest_query_{args.n} value={query_ms:.1f}ms baseline={base_ms:.0f}ms "
        f"ratio={ratio:.0f} target=<=100ms pass={'yes' if query_ms <= 100 else 'no'}"
    )
    print(
        f"BENCH nearest_index_{args.n} value={build_s:.1f}s load={load_s:.2f}s "
        f"target=build<=60s,load<=1s pass={'yes' if build_s <= 60 and load_s <= 1 else 'no'}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
