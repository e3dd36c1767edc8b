"""DPO cost per pair against SFT cost per example, same data, same model, same machine and run.

The pairs are LLaMA-Factory's ``dpo_en_demo.json`` (ShareGPT preference rows, read with the
app's own importer mapping); SFT trains on their chosen conversations, DPO on the pairs. Both
use LoRA, the same batch size (in examples or pairs), no packing, the same ``--seq-len``. One DPO
pair is two sequences trained (chosen, rejected) plus the reference pass over both without
gradients (the same model, adapter disabled). With a forward costing F and a backward 2F, SFT is
3F per example and DPO 2 × 3F + 2 × F = 8F per pair: a ratio of about 2.7; the target is <= 3
(the reference pass costs one extra forward per sequence, no more). Steps after the first are
timed; the median step time is divided by the batch size.

    HF_HUB_OFFLINE=1 .venv/bin/python bench/train_dpo.py --model bundled --steps 4
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from datasets_app.formats.rowformats import map_sharegpt_preference  # noqa: E402
from training.recipe.config import BUNDLED_BASE_MODEL, TrainConfig  # noqa: E402
from training.recipe.preference_loop import make_recipe  # noqa: E402
from training.recipe.reporter import NullReporter  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "llamafactory" / "dpo_en_demo.json"
TARGET = 3.0


class StepTimes(NullReporter):
    def __init__(self):
        self.times, self.metrics = [], []

    def on_step(self, step, metrics):
        self.times.append(metrics["step_s"])
        self.metrics.append(metrics)


def pairs(limit: int) -> list[dict]:
    out = []
    for row in json.loads(DATA.read_text()):
        content = map_sharegpt_preference(row)
        out.append({"messages": content["messages"], "rejected": content["metadata"]["rejected"]})
        if len(out) == limit:
            break
    return out


def run(method: str, records: list[dict], args, device: str | None) -> tuple[float, StepTimes]:
    config = TrainConfig.from_dict(
        {
            "base_model": BUNDLED_BASE_MODEL if args.model == "bundled" else args.model,
            "method": method,
            "batch_size": args.batch,
            "max_steps": args.steps,
            "epochs": 20,
            "max_seq_len": args.seq_len,
            "packing": False,
            "overlength": "truncate",
            "eval_interval": 0,
            "checkpoint_interval": 0,
            "warmup_ratio": 0.0,
            "learning_rate": 1e-4,
        }
    )
    reporter = StepTimes()
    with tempfile.TemporaryDirectory() as out:
        recipe = make_recipe(
            config, out_dir=out, models_dir=args.models_dir, reporter=reporter, device=device
        )
        recipe.setup(records)
        recipe.train()
    timed = reporter.times[1:] or reporter.times
    return statistics.median(timed) / args.batch, reporter


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="bundled", help="bundled, or a local model folder")
    parser.add_argument("--models-dir", default=str(ROOT / "var" / "models" / "base"))
    parser.add_argument("--pairs", type=int, default=32)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--seq-len", type=int, default=256)
    parser.add_argument("--device", default=None)
    args = parser.parse_args()
    records = pairs(args.pairs)
    sft = [{"messages": r["messages"]} for r in records]
    sft_s, _ = run("lora", sft, args, args.device)
    dpo_s, dpo = run("dpo", records, args, args.device)
    ratio = dpo_s / sft_s
    print(f"pairs={len(records)} batch={args.batch} seq_len={args.seq_len} steps={args.steps}")
    print(f"sft  {sft_s * 1000:.1f} ms per example")
    print(f"dpo  {dpo_s * 1000:.1f} ms per pair")
    last = dpo.metrics[-1]
    print(
        f"dpo last step: loss={last['loss']:.4f} reward_accuracy={last['reward_accuracy']:.2f} "
        f"reward_margin={last['reward_margin']:.4f}"
    )
    print(
        f"BENCH train_dpo_per_pair value={dpo_s:.4f}s baseline={sft_s:.4f}s ratio={ratio:.2f} "
        f"target=<={TARGET} pass={'yes' if ratio <= TARGET else 'no'}"
    )


if __name__ == "__main__":
    main()
