"""DPO cost per pair against SFT cost per example, same data, same model, same machine and run.

The pairs are LLaMA-Factory's ``dpo_en_demo.json`` (ShareGPT preference rows, read with the
app's own importer mapping); SFT trains on their chosen conversations, DPO on the pairs. Both
use LoRA, the same batch size (in examples or pairs), no packing, the same ``--seq-len``. Steps
after the first are timed; the median step time is divided by the batch size.

**What the ratio should be.** One DPO pair is two sequences trained (chosen, rejected) plus the
reference pass over both without gradients (the same model, adapter disabled): one extra
forward per sequence, no more. With a forward costing F per token, a training step costs 3F
(forward, backward 2F), or 4F with gradient checkpointing (the forward again in the backward;
on by default on CPU). So per pair DPO costs ``T_pair × (train + F)`` against SFT's
``T_example × train``, where T is the tokens trained through: the expected ratio is
``T_pair / T_example × (train + F) / train`` — 2 × 5/4 = 2.5 with checkpointing and equal
sides, 2 × 4/3 ≈ 2.67 without. It is printed beside the measured ratio, computed from the
tokens the runs actually saw; a measured ratio well above it means the reference pass costs
more than one forward. The target stays <= 3.

**Robust to load.** The machine is shared: ``--rounds`` rounds each measure SFT and DPO back to
back, alternating which goes first, and report their own ratio and load average; the figure is
the median of the rounds' ratios (times: medians of the rounds' per-item times).

    HF_HUB_OFFLINE=1 .venv/bin/python bench/train_dpo.py --model bundled --steps 4 --rounds 3
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


def run(method: str, records: list[dict], args, device: str | None) -> dict:
    """One timed run: per-item seconds (median step / batch), tokens seen per item, whether
    gradient checkpointing was on, and the last step's metrics."""
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
    steps = reporter.metrics[1:] or reporter.metrics
    # tokens_per_s is the step's non-padding tokens over its time: the tokens it trained through
    tokens = statistics.median(m["tokens_per_s"] * m["step_s"] for m in steps)
    return {
        "seconds": statistics.median(timed) / args.batch,
        "tokens": tokens / args.batch,
        "checkpointing": recipe.checkpointing,
        "last": reporter.metrics[-1],
    }


def expected_ratio(sft: dict, dpo: dict) -> tuple[float, str]:
    """The pass count's DPO/SFT ratio for the tokens the two runs saw (module docstring)."""
    train = 4.0 if dpo["checkpointing"] else 3.0
    tokens = dpo["tokens"] / sft["tokens"]
    why = (
        f"tokens per pair / per example {tokens:.2f} × ({train:.0f}F + 1F reference) / "
        f"{train:.0f}F ({'with' if dpo['checkpointing'] else 'without'} gradient checkpointing)"
    )
    return tokens * (train + 1.0) / train, why


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="bundled", help="bundled, or a local model folder")
    parser.add_argument("--models-dir", default=str(ROOT / "var" / "models" / "base"))
    parser.add_argument("--pairs", type=int, default=32)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--seq-len", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=3, help="SFT/DPO rounds, order alternating")
    parser.add_argument("--device", default=None)
    args = parser.parse_args()
    records = pairs(args.pairs)
    sft_records = [{"messages": r["messages"]} for r in records]
    print(
        f"pairs={len(records)} batch={args.batch} seq_len={args.seq_len} steps={args.steps} "
        f"rounds={args.rounds}"
    )
    rounds = []
    for i in range(args.rounds):
        order = ("lora", "dpo") if i % 2 == 0 else ("dpo", "lora")
        done = {}
        for method in order:
            done[method] = run(
                method, records if method == "dpo" else sft_records, args, args.device
            )
        sft, dpo = done["lora"], done["dpo"]
        expected, _ = expected_ratio(sft, dpo)
        ratio = dpo["seconds"] / sft["seconds"]
        rounds.append({"sft": sft, "dpo": dpo, "ratio": ratio, "expected": expected})
        print(
            f"round {i + 1} ({'sft' if order[0] == 'lora' else 'dpo'} first): "
            f"sft {sft['seconds'] * 1000:.1f} ms per example, dpo {dpo['seconds'] * 1000:.1f} ms "
            f"per pair, ratio {ratio:.2f} (expected <= {expected:.2f}), "
            f"load {os.getloadavg()[0]:.2f}"
        )
    sft_s = statistics.median(r["sft"]["seconds"] for r in rounds)
    dpo_s = statistics.median(r["dpo"]["seconds"] for r in rounds)
    ratio = statistics.median(r["ratio"] for r in rounds)
    _, why = expected_ratio(rounds[-1]["sft"], rounds[-1]["dpo"])
    expected = statistics.median(r["expected"] for r in rounds)
    print(f"expected ratio <= {expected:.2f}: {why}")
    print(
        f"median ratio {ratio:.2f} over {len(rounds)} round(s): {ratio / expected:.2f}x the bound"
    )
    last = rounds[-1]["dpo"]["last"]
    print(
        f"dpo last step: loss={last['loss']:.4f} reward_accuracy={last['reward_accuracy']:.2f} "
        f"reward_margin={last['reward_margin']:.4f}"
    )
    print(
        f"BENCH train_dpo_per_pair value={dpo_s:.4f}s baseline={sft_s:.4f}s ratio={ratio:.2f} "
        f"expected<={expected:.2f} target=<={TARGET} pass={'yes' if ratio <= TARGET else 'no'}"
    )


if __name__ == "__main__":
    main()
