"""Peak memory of CPU training with and without gradient checkpointing, the defaults otherwise.

Trains the bundled SmolLM2-135M-Instruct for ``--steps`` optimizer steps with the app's default
configuration (LoRA r16, batch 8, packed rows of 1024 tokens) twice, each in a fresh process so
that its peak RSS is its own: once with ``gradient_checkpointing=off`` (the baseline, measured in
the same run) and once ``on`` (what ``auto`` picks on CPU). Data: GSM8K training chats from
../shared/data/gsm8k when present, else generated arithmetic chats.

    .venv/bin/python bench/train_memory.py --steps 2
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DATA = ROOT.parent / "shared" / "data" / "gsm8k" / "train.jsonl"


def records(n: int) -> list[dict]:
    if DATA.is_file():
        with open(DATA, encoding="utf-8") as fh:
            rows = [json.loads(line) for _, line in zip(range(n), fh, strict=False)]
        pairs = [(r["question"], r["answer"]) for r in rows]
    else:
        pairs = [(f"What is {i} times {i + 7}?", f"{i} × {i + 7} = {i * (i + 7)}. " * 12) for i in range(n)]  # fmt: skip
    return [{"messages": [{"role": "user", "content": q}, {"role": "assistant", "content": a}]} for q, a in pairs]  # fmt: skip


def child(setting: str, steps: int, models_dir: str, batch_size: int) -> None:
    from training.recipe.config import TrainConfig
    from training.recipe.loop import TrainingRecipe

    config = TrainConfig.from_dict({"max_steps": steps, "gradient_checkpointing": setting, "batch_size": batch_size,
                                    "eval_interval": 0, "checkpoint_interval": 0})  # fmt: skip
    with tempfile.TemporaryDirectory() as out:
        recipe = TrainingRecipe(config, out_dir=out, models_dir=models_dir, device="cpu")
        recipe.setup(records(400))
        started = time.perf_counter()
        result = recipe.train()
        seconds = (time.perf_counter() - started) / result.steps
    tokens = sum(h["trained_tokens"] for h in result.history) / result.steps
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"setting": setting, "peak_mb": peak_mb, "s_per_step": seconds, "trained_tokens_per_step": tokens}))  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=2)
    parser.add_argument("--models-dir", default=str(ROOT / "var" / "models"))
    parser.add_argument(
        "--batch-size", type=int, default=8, help="rows per step (default: the app's)"
    )
    parser.add_argument("--child", choices=["on", "off"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.steps, args.models_dir, args.batch_size)
        return 0
    figures: dict[str, dict | None] = {}
    for setting in ("off", "on"):
        out = subprocess.run(  # noqa: S603 - our own script, fixed arguments
            [sys.executable, __file__, "--child", setting, "--steps", str(args.steps),
             "--models-dir", args.models_dir, "--batch-size", str(args.batch_size)],
            capture_output=True, text=True,
        )  # fmt: skip
        if out.returncode == -9:  # the kernel's OOM killer: the figure is "does not fit"
            figures[setting] = None
            print(f"checkpointing {setting:3}: killed by the kernel (out of memory)")
            continue
        if out.returncode:
            print(out.stderr[-2000:])
            return out.returncode
        figures[setting] = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"checkpointing {setting:3}: {figures[setting]}")
    off, on = figures["off"], figures["on"]
    if on is None:
        print("BENCH train_memory_cpu value=OOM pass=no")
        return 1
    if off is None:
        print(
            f"BENCH train_memory_cpu value={on['peak_mb']:.0f}MB baseline=OOM-killed "
            f"batch={args.batch_size}x1024 pass=yes"
        )
        return 0
    print(
        f"BENCH train_memory_cpu value={on['peak_mb']:.0f}MB baseline={off['peak_mb']:.0f}MB "
        f"ratio={on['peak_mb'] / off['peak_mb']:.2f} batch={args.batch_size}x1024 target=<=0.6 "
        f"pass={'yes' if on['peak_mb'] <= 0.6 * off['peak_mb'] else 'no'}"
    )
    print(
        f"BENCH train_step_time_cpu value={on['s_per_step']:.1f}s baseline={off['s_per_step']:.1f}s "
        f"ratio={on['s_per_step'] / off['s_per_step']:.2f} (the price of recomputation)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
