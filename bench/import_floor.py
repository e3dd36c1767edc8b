"""Parse + map cost of the import reader against bare ``orjson.loads`` per line, same run.

Input: a ``--n`` line (default 100,000) OpenAI chat JSONL written to a temporary file, built from
../shared/data: every file there is read with ``iter_rows`` itself and exported as OpenAI JSONL
(Alpaca, gsm8k, ShareGPT tool calls, typed parts, preference, self-instruct → canonical), the
pool (~16,000 examples) is cycled, every copy after the first gets a " (variant N)" suffix on its
last message so no two lines are equal. Without ../shared/data the benchmark exits.

Baseline: open the file, ``orjson.loads`` every line (the floor of any JSONL importer).
Value: ``iter_rows`` over the same file: line cap, gzip sniffing, duplicate-key / NUL / depth
checks, format detection, mapping, canonical validation, ParsedRow per line. Best of
``--repeat`` runs each.
"""

from __future__ import annotations

import argparse
import glob
import sys
import tempfile
import time
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from datasets_app.formats import RowError, iter_rows  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
TARGET_RATIO = 2.0


def build(path: Path, n: int) -> int:
    pool = []
    for name in sorted(glob.glob(str(DATA / "*" / "*.json*"))):
        with open(name, "rb") as fh:
            pool += [r.content for r in iter_rows(fh) if not isinstance(r, RowError)]
    size = 0
    with open(path, "wb") as out:
        for i in range(n):
            content = pool[i % len(pool)]
            obj = {"messages": content["messages"]}
            if content.get("tools"):
                obj["tools"] = content["tools"]
            if i >= len(pool):
                last = dict(obj["messages"][-1])
                last["content"] = (last["content"] or "") + f" (variant {i // len(pool)})"
                obj["messages"] = [*obj["messages"][:-1], last]
            line = orjson.dumps(obj) + b"\n"
            size += len(line)
            out.write(line)
    return size


def floor(path: Path) -> float:
    start = time.perf_counter()
    loads = orjson.loads
    with open(path, "rb") as fh:
        for line in fh:
            loads(line)
    return time.perf_counter() - start


def reader(path: Path) -> tuple[float, int]:
    start = time.perf_counter()
    rows = 0
    with open(path, "rb") as fh:
        for item in iter_rows(fh):
            if type(item) is RowError:
                raise SystemExit(f"unexpected error: {item}")
            rows += 1
    return time.perf_counter() - start, rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if not DATA.exists():
        raise SystemExit(f"no data at {DATA}")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.jsonl"
        size = build(path, args.n)
        base = min(floor(path) for _ in range(args.repeat))
        runs = [reader(path) for _ in range(args.repeat)]
        value = min(t for t, _ in runs)
        rows = runs[0][1]
    ratio = value / base
    print(f"input: {args.n} lines, {size / 1e6:.1f} MB, {rows} rows read")
    print(f"baseline orjson.loads per line: {base:.2f}s ({args.n / base:,.0f} rows/s)")
    print(f"iter_rows parse+map+validate:   {value:.2f}s ({args.n / value:,.0f} rows/s)")
    passed = "yes" if ratio <= TARGET_RATIO else "no"
    print(
        f"BENCH import_floor value={value:.2f}s baseline={base:.2f}s ratio={ratio:.2f} "
        f"target=<={TARGET_RATIO:g} pass={passed}"
    )


if __name__ == "__main__":
    main()
