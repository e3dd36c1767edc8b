"""Does fine-tuning teach the format? GSM8K on the bundled SmolLM2-135M-Instruct, base vs LoRA.

Data: ../shared/data/gsm8k/train.jsonl and test.jsonl (question → worked answer ending with
"#### <number>"). The first ``--train`` training rows become chats (user: question, assistant:
answer); the first ``--test`` test questions are answered greedily by the base model and by the
fine-tuned one (same weights, adapter disabled / enabled, batched with left padding).

Figures: the share of answers containing "#### <number>" and the exact-match accuracy of that
number, base (the baseline, measured in the same run) against fine-tuned; and the wall time.

    HF_HUB_OFFLINE=1 .venv/bin/python bench/train_quality.py --train 160 --test 24 --epochs 1 --batch-size 2
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from training.recipe.config import TrainConfig  # noqa: E402
from training.recipe.loop import TrainingRecipe  # noqa: E402
from training.recipe.reporter import PrintReporter  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "gsm8k"
ANSWER = re.compile(r"####\s*\$?(-?[0-9][0-9,]*(?:\.[0-9]+)?)")


def read(path: Path, n: int) -> list[dict]:
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for _, line in zip(range(n), fh, strict=False)]


def to_chat(row: dict) -> dict:
    return {
        "messages": [
            {"role": "user", "content": row["question"]},
            {"role": "assistant", "content": row["answer"]},
        ]
    }


def number(text: str) -> str | None:
    match = ANSWER.search(text)
    return match.group(1).replace(",", "").rstrip(".") if match else None


@torch.no_grad()
def answer_all(
    model, tokenizer, questions: list[str], max_new_tokens: int, batch: int = 16
) -> list[str]:
    tokenizer.padding_side = "left"
    out = []
    for i in range(0, len(questions), batch):
        texts = [
            tokenizer.apply_chat_template(
                [{"role": "user", "content": q}], tokenize=False, add_generation_prompt=True
            )
            for q in questions[i : i + batch]
        ]
        enc = tokenizer(texts, add_special_tokens=False, return_tensors="pt", padding=True)
        gen = model.generate(
            **enc, max_new_tokens=max_new_tokens, do_sample=False,
            pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id,
        )  # fmt: skip
        out += tokenizer.batch_decode(gen[:, enc["input_ids"].shape[1] :], skip_special_tokens=True)
    return out


def score(answers: list[str], references: list[str]) -> tuple[float, float]:
    got = [number(a) for a in answers]
    fmt = sum(g is not None for g in got) / len(got)
    exact = sum(
        g is not None and g == number(r) for g, r in zip(got, references, strict=True)
    ) / len(got)
    return fmt, exact


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--train", type=int, default=300, help="training rows")
    parser.add_argument("--test", type=int, default=40, help="held-out test questions")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument(
        "--batch-size", type=int, default=4, help="packed rows of 512 tokens per step"
    )
    parser.add_argument("--max-new-tokens", type=int, default=192)
    parser.add_argument("--models-dir", default=str(ROOT / "var" / "models"))
    parser.add_argument("--answers", help="write every question and both answers to this JSON file")
    args = parser.parse_args()
    if not DATA.is_dir():
        print(f"no data at {DATA}; nothing to measure")
        return 1
    train = [to_chat(r) for r in read(DATA / "train.jsonl", args.train)]
    test = read(DATA / "test.jsonl", args.test)
    config = TrainConfig.from_dict({
        "epochs": args.epochs, "learning_rate": args.lr, "batch_size": args.batch_size, "max_seq_len": 512,
        "lora_r": 16, "lora_alpha": 32, "eval_interval": 0, "checkpoint_interval": 0, "log_interval": 5,
        # Batches of 2×512 fit in a few GB; recomputing activations would only cost time here.
        "gradient_checkpointing": "off",
    })  # fmt: skip
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as out:
        recipe = TrainingRecipe(
            config, out_dir=out, models_dir=args.models_dir, reporter=PrintReporter()
        )
        plan = recipe.setup(train)
        print(
            f"plan: {plan['examples']} examples, {plan['training_tokens']} trained tokens, {plan['total_steps']} steps"
        )
        recipe.train()
        trained_s = time.perf_counter() - started
        model, tokenizer = recipe.model.eval(), recipe.tokenizer
        questions, references = [r["question"] for r in test], [r["answer"] for r in test]
        with model.disable_adapter():
            base_answers = answer_all(model, tokenizer, questions, args.max_new_tokens)
        tuned_answers = answer_all(model, tokenizer, questions, args.max_new_tokens)
    total_s = time.perf_counter() - started
    base_fmt, base_exact = score(base_answers, references)
    tuned_fmt, tuned_exact = score(tuned_answers, references)
    if args.answers:
        Path(args.answers).write_text(json.dumps([
            {"question": q, "reference": r, "base": b, "finetuned": t}
            for q, r, b, t in zip(questions, references, base_answers, tuned_answers, strict=True)
        ], indent=1))  # fmt: skip
    cut = [
        [len(tokenizer(a, add_special_tokens=False).input_ids) >= args.max_new_tokens - 1 for a in answers]
        for answers in (base_answers, tuned_answers)
    ]  # fmt: skip
    print(f"answers cut at --max-new-tokens: base {sum(cut[0])}, fine-tuned {sum(cut[1])} of {len(test)}")  # fmt: skip
    # A small model under greedy decoding can loop until the cap: among the answers that ended,
    # the share in the format says whether the format itself was learned.
    for who, answers, was_cut in (("base", base_answers, cut[0]), ("fine-tuned", tuned_answers, cut[1])):  # fmt: skip
        ended = [a for a, c in zip(answers, was_cut, strict=True) if not c]
        share = sum(number(a) is not None for a in ended) / len(ended) if ended else float("nan")
        print(f"format share among answers that ended ({who}): {share:.2f} of {len(ended)}")
    print(f"sample base     : {base_answers[0][:200]!r}")
    print(f"sample finetuned: {tuned_answers[0][:200]!r}")
    print(
        f"train time {trained_s:.0f}s, total {total_s:.0f}s on {recipe.device} ({torch.get_num_threads()} threads)"
    )
    print(f"format share: base {base_fmt:.2f}, fine-tuned {tuned_fmt:.2f}")
    print(f"exact match : base {base_exact:.2f}, fine-tuned {tuned_exact:.2f}")
    ratio = tuned_fmt / base_fmt if base_fmt else float("inf")
    print(
        f"BENCH train_quality_format value={tuned_fmt:.2f} baseline={base_fmt:.2f} ratio={ratio:.2f} "
        f"target=>=0.80 pass={'yes' if tuned_fmt >= 0.8 and tuned_fmt >= base_fmt + 0.5 else 'no'}"
    )
    ratio = tuned_exact / base_exact if base_exact else float("inf")
    print(
        f"BENCH train_quality_exact value={tuned_exact:.2f} baseline={base_exact:.2f} ratio={ratio:.2f} "
        f"target=>=baseline pass={'yes' if tuned_exact >= base_exact else 'no'}"
    )
    print(
        f"BENCH train_quality_time value={total_s:.0f}s train={trained_s:.0f}s examples={len(train)} tests={len(test)}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
