"""Eval-run generation throughput: batched generation (training.recipe.evaluate.generate_batch,
what an eval run does) against a one-prompt-at-a-time loop (``generate``, what the playground
does), on the same prompts, model and settings, in the same run.

Prompts are gsm8k-style word problems built here (no shared data read); greedy decoding, so
both ways produce the same answers (checked and printed). The model is the bundled
SmolLM2-135M-Instruct unless ``--model`` names a local folder. Target: ≥ 3× at batch 8 on CPU.

    HF_HUB_OFFLINE=1 .venv/bin/python bench/eval_throughput.py --prompts 16 --max-new-tokens 48
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from training.recipe.config import BUNDLED_BASE_MODEL  # noqa: E402
from training.recipe.evaluate import generate, generate_batch, load_for_generation  # noqa: E402

NAMES = ["Natalia", "Weng", "Betty", "Julie", "James", "Mark", "Albert", "Ken"]
ITEMS = ["clips", "apples", "books", "pages", "marbles", "stickers", "cookies", "pencils"]


def prompts(n: int) -> list[list[dict]]:
    out = []
    for i in range(n):
        name, item = NAMES[i % len(NAMES)], ITEMS[(i * 3) % len(ITEMS)]
        a, b = 12 + 7 * i, 3 + (i % 5)
        question = (
            f"{name} has {a} {item} and buys {b} times as many more. Then {name} gives away "
            f"{i + 2}. How many {item} does {name} have now? End with '#### <number>'."
        )
        out.append([{"role": "user", "content": question}])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prompts", type=int, default=16)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--max-new-tokens", type=int, default=48)
    parser.add_argument("--model", default=BUNDLED_BASE_MODEL)
    parser.add_argument("--cache", default=str(ROOT / "var" / "models" / "base"))
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--rounds", type=int, default=1, help="passes over the prompts")
    args = parser.parse_args()

    model, tokenizer = load_for_generation(
        base_model=args.model, models_dir=args.cache, device=args.device
    )
    work = prompts(args.prompts)
    generate(model, tokenizer, work[0], max_new_tokens=4)  # warm-up (kernels, caches)

    # Interleaved per chunk of one batch, in ABBA order (loop, batch, batch, loop, ...), so the
    # shared machine's changing load falls on both ways alike; wall and CPU time both counted.
    wall = {"loop": 0.0, "batch": 0.0}
    cpu = {"loop": 0.0, "batch": 0.0}
    one_by_one, batched = [], []
    for r in range(args.rounds):
        for c, start in enumerate(range(0, len(work), args.batch_size)):
            chunk = work[start : start + args.batch_size]
            order = ("loop", "batch") if (r + c) % 2 == 0 else ("batch", "loop")
            for way in order:
                t0, p0 = time.perf_counter(), time.process_time()
                if way == "loop":
                    out = [
                        generate(model, tokenizer, p, max_new_tokens=args.max_new_tokens)
                        for p in chunk
                    ]
                else:
                    out = generate_batch(
                        model,
                        tokenizer,
                        chunk,
                        max_new_tokens=args.max_new_tokens,
                        batch_size=args.batch_size,
                    )
                wall[way] += time.perf_counter() - t0
                cpu[way] += time.process_time() - p0
                if r == 0:
                    (one_by_one if way == "loop" else batched).extend(out)
    loop, batch = wall["loop"], wall["batch"]
    same = sum(a == b for a, b in zip(one_by_one, batched, strict=True))
    ratio = loop / batch
    cpu_ratio = cpu["loop"] / cpu["batch"]
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"device {args.device}, torch threads {torch.get_num_threads()}, model {args.model}"
    )
    print(
        f"{args.prompts} prompts x {args.max_new_tokens} new tokens x {args.rounds} round(s), "
        f"interleaved: one at a time {loop:.2f} s wall / {cpu['loop']:.2f} s CPU, "
        f"batch {args.batch_size} {batch:.2f} s wall / {cpu['batch']:.2f} s CPU "
        f"({args.prompts * args.rounds / batch:.3f} against "
        f"{args.prompts * args.rounds / loop:.3f} items/s)"
    )
    print(f"identical answers: {same} of {args.prompts}")
    print(
        f"BENCH eval_generation value={batch:.2f}s baseline={loop:.2f}s ratio={ratio:.2f} "
        f"target=>=3 pass={'yes' if ratio >= 3 else 'no'}"
    )
    print(
        f"BENCH eval_generation_cpu value={cpu['batch']:.2f}s baseline={cpu['loop']:.2f}s "
        f"ratio={cpu_ratio:.2f} target=>=3 pass={'yes' if cpu_ratio >= 3 else 'no'}"
    )


if __name__ == "__main__":
    main()
