"""Split assignment of 100,000 examples with duplicate clusters, against a shuffle baseline.

Input (synthetic, seed 1): 100,000 example keys ``ex-000000``...; 30 % of them in near-duplicate
clusters of 2 to 6 members; a stratum per example from 8 values. Measured, in one run:

- the first split, 80/10/10, grouped (the DESIGN §3 hash bucketing);
- the same, stratified by the 8 values;
- a re-split after adding 10,000 examples, with every existing example's current split passed in
  (the stable path: nothing may move, which is checked);
- the leakage report over all cluster pairs of the grouped split (must be empty).

Baseline: ``random.Random(seed).shuffle`` of the same ids, then slicing 80/10/10 (no groups, no
stability). Usage: python bench/splits.py [--n 100000]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from itertools import combinations
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from datasets_app.splits import SplitItem, assign_splits, leakage_report  # noqa: E402

RATIOS = {"train": 0.8, "validation": 0.1, "test": 0.1}


def build(n: int, rng: random.Random, prefix: str = "ex"):
    keys = [f"{prefix}-{i:06d}" for i in range(n)]
    items, pairs = [], []
    i = 0
    while i < n:
        # a cluster starts with chance 0.1; at 4 members on average that is ~30 % of examples
        size = rng.randint(2, 6) if rng.random() < 0.1 else 1
        members = keys[i : i + size]
        group = members[0] if len(members) > 1 else None
        for k in members:
            items.append(SplitItem(key=k, group=group, stratum=f"s{rng.randrange(8)}"))
        pairs.extend((a, b, "near", 0.9) for a, b in combinations(members, 2))
        i += size
    return items, pairs


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=100_000)
    args = parser.parse_args()
    rng = random.Random(1)
    items, pairs = build(args.n, rng)
    clustered = sum(1 for i in items if i.group is not None)

    def baseline():
        ids = [i.key for i in items]
        random.Random(0).shuffle(ids)
        a, b = int(len(ids) * 0.8), int(len(ids) * 0.9)
        return {"train": ids[:a], "validation": ids[a:b], "test": ids[b:]}

    _, base_s = timed(baseline)
    grouped, grouped_s = timed(lambda: assign_splits(items, ratios=RATIOS, seed=0))
    _, strat_s = timed(lambda: assign_splits(items, ratios=RATIOS, seed=0, stratify=True))
    current = [
        SplitItem(i.key, i.group, i.stratum, current=grouped.assignments[i.key]) for i in items
    ]
    extra, _ = build(args.n // 10, rng, prefix="new")
    again, again_s = timed(lambda: assign_splits(current + extra, ratios=RATIOS, seed=0))
    moved = sum(again.assignments[k] != s for k, s in grouped.assignments.items())
    leaks, leak_s = timed(lambda: leakage_report(pairs, grouped.assignments))

    print(f"examples: {len(items)}, in clusters: {clustered}, cluster pairs: {len(pairs)}")
    print(f"baseline shuffle split: {base_s:.3f} s")
    print(f"grouped split: {grouped_s:.3f} s, counts {grouped.counts}")
    print(f"stratified grouped split: {strat_s:.3f} s")
    print(f"re-split after +{len(extra)} examples: {again_s:.3f} s, existing moved: {moved}")
    print(f"leakage report: {leak_s:.3f} s, leaking pairs: {len(leaks)}")
    n = len(items)
    worst = max(grouped_s, strat_s, again_s)
    print(
        f"BENCH split_n{n} value={grouped_s:.3f}s baseline={base_s:.3f}s "
        f"ratio={grouped_s / base_s:.1f} target=<3s pass={'yes' if grouped_s < 3 else 'no'}"
    )
    print(
        f"BENCH split_worst_case_n{n} value={worst:.3f}s baseline={base_s:.3f}s "
        f"ratio={worst / base_s:.1f} target=<3s pass={'yes' if worst < 3 else 'no'}"
    )
    print(f"BENCH split_stability value={moved} target=0 pass={'yes' if moved == 0 else 'no'}")
    print(f"BENCH split_leakage value={len(leaks)} target=0 pass={'yes' if not leaks else 'no'}")


if __name__ == "__main__":
    main()
