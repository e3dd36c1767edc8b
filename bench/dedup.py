"""Near-duplicate detection: datasets_app.dedup against a datasketch reference pipeline.

Corpus (deterministic, seed 7), built from ../shared/data: the whole-conversation text of every
row of alpaca_en_demo, identity, gpteacher codegen-instruct, gsm8k train+test, self-instruct
(seed tasks and user-oriented, one text per instance), dpo_en_demo (prompt + chosen) and
glaive_toolcall (all turns) -- about 16,000 real texts, kept with their own exact duplicates.
70 % of the corpus are distinct documents: the real texts, then concatenations of two random real
texts. The other 30 % are injected near-duplicate variants of a random distinct document: word
edits at a rate drawn from {0.5, 1, 2, 3, 5} % of its words, each edit an adjacent-word swap, a
deletion or an insertion of a random corpus word with equal chance. At 5-gram shingles those
rates land on both sides of the 0.8 threshold.

Both pipelines get the same raw texts, normalize them (NFKC, casefold, whitespace) and use the same
shingles (word 5-grams, or the whole text under five words), threshold (0.8) and 128 permutations,
and both end with the same exact verification of every candidate (so both report only true
pairs). Reference: datasketch ``MinHash.bulk`` (its vectorized ``update_batch`` path) and
``MinHashLSH`` with an insertion session, then a query for every item. Each pipeline runs in its
own subprocess that loads the pickled texts first, so peak RSS minus the RSS before the pipeline
is the pipeline's own memory.

Recall and precision: a sample of 10,000 documents made of whole variant families (a distinct
document and all its variants) plus random distinct documents, brute-forced by exact Jaccard on
every pair that shares a shingle (a sparse product; pairs sharing nothing have Jaccard 0).
Precision is also checked on every pair reported over the whole corpus.

Usage: python bench/dedup.py [--n 100000] [--sample 10000]
"""

from __future__ import annotations

import argparse
import json
import pickle
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data"
sys.path.insert(0, str(ROOT))

THRESHOLD = 0.8
NUM_PERM = 128
RATES = (0.005, 0.01, 0.02, 0.03, 0.05)


def _real_texts() -> list[str]:
    out = []
    lf = DATA / "llamafactory"
    for name in ("alpaca_en_demo.json", "identity.json"):
        for r in json.loads((lf / name).read_text()):
            out.append("\n".join([r["instruction"], r["input"], r["output"]]))
    for r in json.loads((DATA / "gpteacher" / "codegen-instruct.json").read_text()):
        out.append("\n".join([r["instruction"], r["input"], r["response"]]))
    for name in ("train.jsonl", "test.jsonl"):
        for line in (DATA / "gsm8k" / name).read_text().splitlines():
            r = json.loads(line)
            out.append(r["question"] + "\n" + r["answer"])
    for name in ("seed_tasks.jsonl", "user_oriented_instructions.jsonl"):
        for line in (DATA / "self-instruct" / name).read_text().splitlines():
            r = json.loads(line)
            for inst in r["instances"]:
                out.append("\n".join([r["instruction"], inst["input"], inst["output"]]))
    for r in json.loads((lf / "dpo_en_demo.json").read_text()):
        turns = [t["value"] for t in r["conversations"]] + [r["chosen"]["value"]]
        out.append("\n".join(turns))
    for r in json.loads((lf / "glaive_toolcall_en_demo.json").read_text()):
        out.append("\n".join(t["value"] for t in r["conversations"]))
    return out


def _edit(words: list[str], rate: float, rng: random.Random, vocab: list[str]) -> list[str]:
    words = list(words)
    for _ in range(max(1, round(len(words) * rate))):
        op = rng.randrange(3)
        if op == 0 and len(words) > 1:
            i = rng.randrange(len(words) - 1)
            words[i], words[i + 1] = words[i + 1], words[i]
        elif op == 1 and len(words) > 1:
            del words[rng.randrange(len(words))]
        else:
            words.insert(rng.randrange(len(words) + 1), rng.choice(vocab))
    return words


def build_corpus(n: int, seed: int = 7) -> tuple[list[str], dict[int, list[int]]]:
    """Texts, and for each distinct document that has variants, the indices of its variants."""
    rng = random.Random(seed)
    real = _real_texts()
    vocab = sorted({w for t in real[:2000] for w in t.split()})
    n_distinct = int(n * 0.7)
    texts = real[:n_distinct]
    while len(texts) < n_distinct:
        a, b = rng.sample(real, 2)
        texts.append(a + "\n" + b)
    families: dict[int, list[int]] = {}
    while len(texts) < n:
        src = rng.randrange(n_distinct)
        words = _edit(texts[src].split(), rng.choice(RATES), rng, vocab)
        families.setdefault(src, []).append(len(texts))
        texts.append(" ".join(words))
    return texts, families


def _sample(texts, families, size, seed=11) -> list[int]:
    rng = random.Random(seed)
    chosen: list[int] = []
    seen = set()
    for src in rng.sample(sorted(families), len(families)):
        if len(chosen) >= size * 0.8:
            break
        for i in [src, *families[src]]:
            if i not in seen:
                seen.add(i)
                chosen.append(i)
    while len(chosen) < size:
        i = rng.randrange(len(texts))
        if i not in seen:
            seen.add(i)
            chosen.append(i)
    return sorted(chosen[:size])


# ---------------------------------------------------------------- child processes


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _current_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return _rss_mb()


def _run_ours(texts):
    from datasets_app.dedup.near import NearSettings, verified_pairs
    from datasets_app.dedup.text import normalize_text

    normalized = [normalize_text(t) for t in texts]
    return [(i, j) for i, j, _ in verified_pairs(normalized, NearSettings(THRESHOLD))]


def _run_reference(texts):
    from datasketch import MinHash, MinHashLSH

    from datasets_app.dedup.text import jaccard, normalize_text, shingles

    normalized = [normalize_text(t) for t in texts]

    def shingle_bytes(t):
        return [" ".join(s).encode() for s in shingles(t)]

    hashes = MinHash.bulk((shingle_bytes(t) for t in normalized), num_perm=NUM_PERM)
    lsh = MinHashLSH(threshold=THRESHOLD, num_perm=NUM_PERM)
    with lsh.insertion_session() as session:
        for i, m in enumerate(hashes):
            session.insert(i, m, check_duplication=False)
    candidates = set()
    for i, m in enumerate(hashes):
        for j in lsh.query(m):
            if j != i:
                candidates.add((min(i, j), max(i, j)))
    found = []
    for i, j in sorted(candidates):
        if jaccard(shingles(normalized[i]), shingles(normalized[j])) >= THRESHOLD:
            found.append((i, j))
    return found


def child(which: str, corpus_path: str, out_path: str) -> None:
    with open(corpus_path, "rb") as fh:
        texts = pickle.load(fh)  # noqa: S301 - our own temp file
    import numpy  # noqa: F401 - both sides pay for numpy before the baseline reading

    before = _current_rss_mb()
    start = time.perf_counter()
    pairs = _run_ours(texts) if which == "ours" else _run_reference(texts)
    seconds = time.perf_counter() - start
    peak = _rss_mb()
    with open(out_path, "w") as fh:
        json.dump({"seconds": seconds, "rss_before": before, "peak": peak, "pairs": pairs}, fh)


# ---------------------------------------------------------------- parent


def _brute_force(texts, idx):
    import numpy as np
    from scipy import sparse

    from datasets_app.dedup.text import normalize_text, shingles

    ids: dict = {}
    rows, cols = [], []
    sizes = []
    for r, i in enumerate(idx):
        s = shingles(normalize_text(texts[i]))
        sizes.append(len(s))
        for sh in s:
            rows.append(r)
            cols.append(ids.setdefault(sh, len(ids)))
    x = sparse.csr_matrix((np.ones(len(rows), np.int32), (rows, cols)), shape=(len(idx), len(ids)))
    inter = sparse.triu(x @ x.T, k=1).tocoo()
    sizes = np.array(sizes)
    sim = inter.data / (sizes[inter.row] + sizes[inter.col] - inter.data)
    keep = sim >= THRESHOLD
    return {(idx[a], idx[b]) for a, b in zip(inter.row[keep], inter.col[keep], strict=True)}


def _spawn(which, corpus_path):
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as fh:
        out = fh.name
    subprocess.run([sys.executable, __file__, "--child", which, corpus_path, out], check=True)
    result = json.loads(Path(out).read_text())
    Path(out).unlink()
    result["pairs"] = {tuple(p) for p in result["pairs"]}
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--sample", type=int, default=10_000)
    parser.add_argument("--child", nargs=3)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    from datasets_app.dedup.text import jaccard, normalize_text, shingles

    texts, families = build_corpus(args.n)
    with tempfile.NamedTemporaryFile(suffix=".pkl", delete=False) as fh:
        pickle.dump(texts, fh)
        corpus_path = fh.name
    ref = _spawn("reference", corpus_path)
    ours = _spawn("ours", corpus_path)
    Path(corpus_path).unlink()

    idx = _sample(texts, families, min(args.sample, len(texts)))
    truth = _brute_force(texts, idx)
    in_sample = set(idx)

    def sample_pairs(pairs):
        return {p for p in pairs if p[0] in in_sample and p[1] in in_sample}

    wrong = sum(
        1
        for i, j in ours["pairs"]
        if jaccard(shingles(normalize_text(texts[i])), shingles(normalize_text(texts[j])))
        < THRESHOLD
    )
    precision = 1 - wrong / max(1, len(ours["pairs"]))
    o_s, r_s = sample_pairs(ours["pairs"]), sample_pairs(ref["pairs"])
    recall = len(o_s & truth) / max(1, len(truth))
    ref_recall = len(r_s & truth) / max(1, len(truth))
    t_ratio = ours["seconds"] / ref["seconds"]
    o_mem = ours["peak"] - ours["rss_before"]
    r_mem = ref["peak"] - ref["rss_before"]
    print(f"corpus: {len(texts)} texts, {sum(map(len, families.values()))} injected variants")
    print(
        f"reference (datasketch): {ref['seconds']:.2f} s, peak RSS {ref['peak']:.0f} MB "
        f"(+{r_mem:.0f} MB for the pipeline), {len(ref['pairs'])} pairs"
    )
    print(
        f"ours: {ours['seconds']:.2f} s, peak RSS {ours['peak']:.0f} MB "
        f"(+{o_mem:.0f} MB for the pipeline), {len(ours['pairs'])} pairs"
    )
    print(f"sample: {len(idx)} texts, {len(truth)} true pairs by brute force")
    print(f"recall ours {recall:.4f}  reference {ref_recall:.4f}")
    print(f"precision ours {precision:.4f} over all {len(ours['pairs'])} reported pairs")
    n = len(texts)
    print(
        f"BENCH dedup_time_n{n} value={ours['seconds']:.2f}s baseline={ref['seconds']:.2f}s "
        f"ratio={t_ratio:.3f} target=<=0.5 pass={'yes' if t_ratio <= 0.5 else 'no'}"
    )
    print(
        f"BENCH dedup_memory_n{n} value={o_mem:.0f}MB baseline={r_mem:.0f}MB "
        f"ratio={o_mem / r_mem:.3f} target=<=1 pass={'yes' if o_mem <= r_mem else 'no'}"
    )
    print(
        f"BENCH dedup_recall value={recall:.4f} baseline={ref_recall:.4f} "
        f"target=>=0.95 pass={'yes' if recall >= 0.95 else 'no'}"
    )
    print(
        f"BENCH dedup_precision value={precision:.4f} target=1.0 "
        f"pass={'yes' if precision == 1.0 else 'no'}"
    )


if __name__ == "__main__":
    main()
