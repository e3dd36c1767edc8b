"""Agreement report time against the krippendorff package and scikit-learn on the same labels.

Input (synthetic, seeded): ``--examples`` examples (default 10,000), each labelled by ``--overlap``
of ``--annotators`` annotators (default 3 of 3): a verdict (approve/reject, 70 % approve), a
rating 1–5 and 0–2 of three tags; 5 % of the labels missing.

Measured: ``annotation.report.agreement_report`` (alpha for verdict, tags nominal and rating
ordinal + interval, exact arithmetic; Cohen's kappa for every pair on the three fields; the
items sorted by disagreement), median of ``--repeat`` runs. Baseline: the same four alphas from
``krippendorff.alpha`` (numpy, floats) plus ``sklearn.metrics.cohen_kappa_score`` for the same
pairs and fields. The results must agree (to 1e-9), or the benchmark fails. Target: our report
at most 10x the baseline (exactness and the item list cost something; 10x keeps a 10,000-item
assignment page under a second).

Usage: python bench/annotation_agreement.py [--examples 10000] [--annotators 3] [--overlap 3]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from itertools import combinations
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import krippendorff  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.metrics import cohen_kappa_score  # noqa: E402

from annotation.report import agreement_report, field_value  # noqa: E402

TARGET = 10.0


def make_rows(examples: int, annotators: int, overlap: int, seed: int = 7) -> list[dict]:
    rnd = random.Random(seed)
    rows = []
    for e in range(examples):
        for a in rnd.sample(range(annotators), overlap):
            if rnd.random() < 0.05:
                continue
            rows.append(
                {
                    "example": e,
                    "annotator": a,
                    "username": f"annotator{a}",
                    "verdict": "approved" if rnd.random() < 0.7 else "rejected",
                    "rating": rnd.randint(1, 5),
                    "tags": rnd.sample(["tone", "long", "wrong"], rnd.randint(0, 2)),
                }
            )
    return rows


def baseline(rows: list[dict], annotators: int, examples: int) -> dict:
    codes: dict = {}
    out = {}
    for field, levels in (
        ("verdict", ["nominal"]),
        ("tags", ["nominal"]),
        ("rating", ["ordinal", "interval"]),
    ):
        matrix = np.full((annotators, examples), np.nan)
        for r in rows:
            value = field_value(r, field)
            if field != "rating":
                value = codes.setdefault((field, value), len(codes))
            matrix[r["annotator"], r["example"]] = value
        for level in levels:
            out[(field, level)] = krippendorff.alpha(
                reliability_data=matrix, level_of_measurement=level
            )
        for a, b in combinations(range(annotators), 2):
            both = ~np.isnan(matrix[a]) & ~np.isnan(matrix[b])
            out[(field, f"kappa {a}-{b}")] = cohen_kappa_score(matrix[a][both], matrix[b][both])
    return out


def timed(fn, repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=10_000)
    parser.add_argument("--annotators", type=int, default=3)
    parser.add_argument("--overlap", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    rows = make_rows(args.examples, args.annotators, args.overlap)
    ours_s, report = timed(lambda: agreement_report(rows), args.repeat)
    base_s, theirs = timed(lambda: baseline(rows, args.annotators, args.examples), args.repeat)
    for (field, level), value in theirs.items():
        if level.startswith("kappa"):
            a, b = level.split()[1].split("-")
            pair = next(
                p
                for p in report["fields"][field]["kappa"]
                if p["annotators"] == [f"annotator{a}", f"annotator{b}"]
            )
            mine = pair["value"]
        else:
            mine = report["fields"][field]["alpha"][level]["value"]
        if abs(mine - value) > 1e-9:
            print(f"MISMATCH {field} {level}: ours {mine} package {value}")
            return 1
    print(f"labels {len(rows):,} on {args.examples:,} examples; results agree with the packages")
    ratio = ours_s / base_s
    print(
        f"BENCH annotation_agreement value={ours_s:.3f}s baseline={base_s:.3f}s "
        f"ratio={ratio:.2f} target=<={TARGET:g} pass={'yes' if ratio <= TARGET else 'no'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
