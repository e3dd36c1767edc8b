"""The semantic layer (issue 22): embedding throughput, semantic dedup recall, re-embedding cost.

1. Embedding throughput on CPU of the bundled all-MiniLM-L6-v2: semantic/embedder.py (tokenized
   once, batched by length) against a plain transformers loop over the same texts in their own
   order with the same batch size, truncation and mean pooling. Texts: gsm8k train question +
   answer (../shared/data/gsm8k, varied lengths). Both produce the same vectors (checked).
2. Semantic duplicates at threshold 0.9: the LSH index of semantic/vectors.py against exact
   all-pairs cosine on 10k rows (384-d, unit, with planted near-duplicate pairs at cosine
   0.90-0.99 among random rows): recall and precision of the pairs, and the time of both; then the
   index alone on 100k rows (embeddings given).
3. Re-embedding after editing 1 %: the embedding job's work (read the store, embed the revisions
   it lacks, publish the new matrix) after 1 % of the texts changed, against the first run.

    .venv/bin/python bench/semantic.py --texts 256 --reembed 600
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from semantic.bundled import WEIGHTS_SHA256, ensure_bundled_embedding_model  # noqa: E402
from semantic.embedder import Embedder  # noqa: E402
from semantic.store import embeddings_read, embeddings_write  # noqa: E402
from semantic.vectors import duplicate_pairs, exact_duplicate_pairs  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "gsm8k" / "train.jsonl"


def texts(n: int) -> list[str]:
    out = []
    with open(DATA) as f:
        for line in f:
            row = json.loads(line)
            out.append(row["question"] + "\n" + row["answer"])
            if len(out) == n:
                break
    # a realistic mix: short prompts next to long worked answers
    return [t if i % 3 else t.split("\n")[0] for i, t in enumerate(out)]


def plain_loop(model: Embedder, items: list[str], batch: int) -> np.ndarray:
    """What a plain transformers loop does: batches in the given order, padded to their longest."""
    import torch

    rows = []
    with torch.inference_mode():
        for start in range(0, len(items), batch):
            enc = model.tokenizer(
                items[start : start + batch],
                truncation=True,
                max_length=model.max_tokens,
                padding=True,
                return_tensors="pt",
            )
            hidden = model.model(**enc).last_hidden_state
            mask = enc["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            mean = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            rows.append(torch.nn.functional.normalize(mean, dim=1).numpy())
    return np.concatenate(rows).astype(np.float16)


def timed(fn, *args, **kwargs):
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return time.perf_counter() - start, result


def bench_throughput(model: Embedder, items: list[str], batch: int) -> None:
    ours_s, plain_s = [], []
    for _ in range(2):  # interleaved: the machine is shared and noisy
        t, ours = timed(model.embed, items, batch_size=batch)
        ours_s.append(t)
        t, plain = timed(plain_loop, model, items, batch)
        plain_s.append(t)
    diff = float(np.abs(ours.astype(np.float32) - plain.astype(np.float32)).max())
    o, p = min(ours_s), min(plain_s)
    print(
        f"embedding {len(items)} texts, batch {batch}: ours {o:.2f}s ({len(items) / o:.0f}/s), "
        f"plain loop {p:.2f}s ({len(items) / p:.0f}/s), max |diff| {diff:.4f}"
    )
    ratio = p / o
    print(
        f"BENCH semantic_embed_throughput value={len(items) / o:.1f}/s "
        f"baseline={len(items) / p:.1f}/s ratio={ratio:.2f} target=>=1 "
        f"pass={'yes' if ratio >= 1 else 'no'}"
    )


def planted(n: int, pairs: int, d: int = 384, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    rows = rng.standard_normal((n, d)).astype(np.float32)
    rows /= np.linalg.norm(rows, axis=1, keepdims=True)
    for i in range(pairs):
        a, b = 2 * i, 2 * i + 1
        target = rng.uniform(0.90, 0.99)
        noise = rng.standard_normal(d).astype(np.float32)
        noise -= (noise @ rows[a]) * rows[a]
        noise /= np.linalg.norm(noise)
        rows[b] = target * rows[a] + np.sqrt(1 - target**2) * noise
    return rows.astype(np.float16)


def bench_dedup(n_exact: int, n_big: int) -> None:
    vectors = planted(n_exact, pairs=n_exact // 20)
    exact_s, exact = timed(exact_duplicate_pairs, vectors, 0.9)
    lsh_s, found = timed(duplicate_pairs, vectors, 0.9)
    recall = len(set(found) & set(exact)) / max(1, len(exact))
    precision = len(set(found) & set(exact)) / max(1, len(found))
    print(
        f"semantic dedup of {n_exact:,} rows at 0.9: exact all-pairs {exact_s:.2f}s "
        f"({len(exact)} pairs), LSH {lsh_s:.2f}s ({len(found)} pairs)"
    )
    print(
        f"BENCH semantic_dedup_recall value={recall:.4f} baseline=1.0 ratio={recall:.4f} "
        f"target=>=0.95 pass={'yes' if recall >= 0.95 else 'no'}"
    )
    print(
        f"BENCH semantic_dedup_precision value={precision:.4f} baseline=1.0 "
        f"ratio={precision:.4f} target=1.0 pass={'yes' if precision == 1.0 else 'no'}"
    )
    print(
        f"BENCH semantic_dedup_10k_time value={lsh_s:.2f}s baseline={exact_s:.2f}s "
        f"ratio={lsh_s / exact_s:.2f} target=<=1 pass={'yes' if lsh_s <= exact_s else 'no'}"
    )
    if n_big:
        big = planted(n_big, pairs=n_big // 20, seed=1)
        big_s, big_found = timed(duplicate_pairs, big, 0.9)
        print(
            f"semantic dedup of {n_big:,} rows at 0.9 (embeddings given): LSH {big_s:.1f}s, "
            f"{len(big_found)} verified pairs of {n_big // 20} planted"
        )


def job_work(model: Embedder, folder: Path, revisions: list[int], items: dict[int, str]) -> int:
    """The embedding job's steps over the store (semantic/services/jobs.py _embed)."""
    old = embeddings_read(folder)
    known = {int(r): i for i, r in enumerate(old.revisions)} if old is not None else {}
    missing = [r for r in revisions if r not in known]
    kept = [r for r in revisions if r in known]
    parts = [np.asarray(old.vectors[[known[r] for r in kept]])] if kept else []
    if missing:
        parts.append(model.embed([items[r] for r in missing]))
    embeddings_write(folder, vectors=np.concatenate(parts), revisions=kept + missing,
                     examples=kept + missing)  # fmt: skip
    return len(missing)


def bench_reembed(model: Embedder, n: int) -> None:
    base = texts(n)
    items = dict(enumerate(base))
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "dataset-1"
        first_s, done = timed(job_work, model, folder, list(items), items)
        edited = list(range(0, n, 100))  # 1 %: new revisions with new text
        revisions = [r for r in items if r not in edited]
        for r in edited:
            items[n + r] = base[r] + " (edited)"
            revisions.append(n + r)
        again_s, redone = timed(job_work, model, folder, revisions, items)
    ratio = again_s / first_s
    print(
        f"re-embedding after editing {redone} of {n}: {again_s:.3f}s vs first run "
        f"{first_s:.2f}s ({done} embedded)"
    )
    print(
        f"BENCH semantic_reembed_1pct value={again_s:.3f}s baseline={first_s:.2f}s "
        f"ratio={ratio:.4f} target=<=0.02 pass={'yes' if ratio <= 0.02 else 'no'}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--texts", type=int, default=256)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--dedup", type=int, default=10_000)
    parser.add_argument("--dedup-big", type=int, default=100_000)
    parser.add_argument("--reembed", type=int, default=600)
    args = parser.parse_args()
    import torch

    torch.set_num_threads(os.cpu_count() or 1)
    cache = Path(tempfile.gettempdir()) / "finetunedb-bench-embedding"
    model = Embedder.load(ensure_bundled_embedding_model(cache), sha256=WEIGHTS_SHA256,
                          device="cpu")  # fmt: skip
    print(
        f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}, "
        f"torch {torch.__version__}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}"
    )
    bench_throughput(model, texts(args.texts), args.batch)
    bench_dedup(args.dedup, args.dedup_big)
    bench_reembed(model, args.reembed)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
