"""Does fine-tuning teach the format? GSM8K on the bundled SmolLM2-135M-Instruct, base vs LoRA,
trained and evaluated through the product itself.

Data: ../shared/data/gsm8k/train.jsonl and test.jsonl (question → worked answer ending with
"#### <number>"). The first ``--train`` training rows and the first ``--test`` test rows become
examples of a dataset (split train / test), frozen into a version; an eval suite on its test
split scores ``format`` (regex ``####\\s*\\$?-?[0-9]``) and ``final_number`` (the answer's number
against the reference's ``#### n``). A LoRA run on the version is launched with that suite named
(``eval_suites``) and executed in this process the way the training worker executes it; when it
succeeds, the after-training hook starts eval runs of the suite for the new model and for the
base model, which run here as the eval worker runs them (batched greedy generation). Then the
same suite runs again for both models with a repetition-aware decoding
(``--repetition-penalty`` / ``--no-repeat-ngram-size``, started through the eval-run service as
the API starts them; 1.0 and 0 skip them), reported apart from greedy: a 135M model loops under
greedy decoding until the token cap, so the greedy format share mixes "not learned" with "never
ended". The default, ``no_repeat_ngram_size=6`` alone, was picked on 8 training rows outside
the default training set (rows 300–307) with the base model: ``repetition_penalty=1.15``
(alone or with it) made it spell numbers as words and hit the cap more often.

Figures: per decoding and model, the share of answers in the format and the final-number
accuracy, base (the baseline, measured in the same run) against fine-tuned, each with its 95 %
Wilson interval, the answers that hit ``--max-new-tokens``, and the format among those that
ended; and the wall time.
The database, models and broker live in a temporary folder; the bundled base model is read
from ``--models-dir``/base (its cache).

    HF_HUB_OFFLINE=1 .venv/bin/python bench/train_quality.py --train 160 --test 24 --epochs 1 --batch-size 2
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

DATA = ROOT.parent / "shared" / "data" / "gsm8k"
SUITE_EVALUATORS = [
    {"type": "regex", "params": {"name": "format", "pattern": "####\\s*\\$?-?[0-9]"}},
    {"type": "final_number"},
]


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


def pct(metric: dict) -> str:
    return f"{metric['mean']:.2f} [{metric['ci_low']:.2f}, {metric['ci_high']:.2f}]"


def report_decoding(runs: dict, tokenizer, max_new_tokens: int) -> dict:
    """Per model: its eval run, metrics, results in order, how many answers hit the token cap
    and how many of those that ended are in the format. A small model under greedy decoding
    can loop until the cap: among the answers that ended, the share in the format says whether
    the format itself was learned."""
    from evaluation.models import EvalResult

    report = {}
    for who, eval_run in runs.items():
        results = list(EvalResult.objects.filter(run=eval_run).order_by("position"))
        cut = [
            len(tokenizer(r.output, add_special_tokens=False).input_ids) >= max_new_tokens - 1
            for r in results
        ]
        report[who] = {
            "run": eval_run,
            "metrics": eval_run.metrics["evaluators"],
            "outputs": results,
            "n": len(results),
            "cut": sum(cut),
            "ended_format": sum(
                r.scores["format"]["passed"] for r, c in zip(results, cut, strict=True) if not c
            ),
        }
    return report


def app_start(models_dir: Path):
    """A fresh database and models folder in a temporary folder; the base model cache shared."""
    data_dir = Path(tempfile.mkdtemp(prefix="train-quality-"))
    (data_dir / "models").mkdir()
    (data_dir / "models" / "base").symlink_to(Path(models_dir).resolve() / "base")
    os.environ["FINETUNEDB_MODELS_DIR"] = str(data_dir / "models")
    from _data import django_start

    django_start(data_dir)
    return data_dir


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
    parser.add_argument(
        "--repetition-penalty",
        type=float,
        default=1.0,
        help="the repetition-aware eval runs' repetition_penalty (1.0 and --no-repeat-ngram-size 0: none)",
    )
    parser.add_argument(
        "--no-repeat-ngram-size",
        type=int,
        default=6,
        help="the repetition-aware eval runs' no_repeat_ngram_size (0: off)",
    )
    parser.add_argument("--models-dir", default=str(ROOT / "var" / "models"))
    parser.add_argument("--answers", help="write every question and both answers to this JSON file")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (database)")
    args = parser.parse_args()
    if not DATA.is_dir():
        print(f"no data at {DATA}; nothing to measure")
        return 1
    train = [to_chat(r) for r in read(DATA / "train.jsonl", args.train)]
    test = [to_chat(r) for r in read(DATA / "test.jsonl", args.test)]
    started = time.perf_counter()
    data_dir = app_start(Path(args.models_dir))
    try:
        return measure(args, train, test, started)
    finally:
        if args.keep:
            print(f"kept {data_dir}")
        else:
            shutil.rmtree(data_dir, ignore_errors=True)


def measure(args, train: list[dict], test: list[dict], started: float) -> int:
    """Dataset → version → suite → training run (eval_suites named) → the eval runs it starts."""
    import torch
    from _data import make_dataset

    from datasets_app.services.examples import example_create
    from datasets_app.services.versions import dataset_version_freeze
    from evaluation.models import EvalRun
    from evaluation.services.execute import eval_run_execute
    from evaluation.services.runs import eval_run_start
    from evaluation.services.suites import eval_suite_create
    from finetunedb.exceptions import ApplicationError
    from training.recipe.base_models import load_tokenizer, resolve_base_model
    from training.services.base_models import base_cache_dir
    from training.services.execute import training_run_execute
    from training.services.launch import training_run_launch

    user, dataset = make_dataset("gsm8k")
    for split, chats in (("train", train), ("test", test)):
        for chat in chats:
            example_create(user=user, dataset=dataset, messages=chat["messages"], split=split)
    try:
        version = dataset_version_freeze(user=user, dataset=dataset, name="gsm8k")
    except ApplicationError as exc:  # a check at error level: say so, and freeze past it
        print(f"freeze gate: {exc.message}; freezing past it")
        version = dataset_version_freeze(
            user=user, dataset=dataset, name="gsm8k", force=True, reason="benchmark data as is"
        )
    suite = eval_suite_create(
        user=user,
        team=dataset.team,
        version=version,
        name="gsm8k test",
        split="test",
        evaluators=SUITE_EVALUATORS,
    )
    hyperparameters = {
        "epochs": args.epochs, "learning_rate": args.lr, "batch_size": args.batch_size, "max_seq_len": 512,
        "lora_r": 16, "lora_alpha": 32, "eval_interval": 0, "checkpoint_interval": 0, "log_interval": 5,
        # Batches of 2×512 fit in a few GB; recomputing activations would only cost time here.
        "gradient_checkpointing": "off",
    }  # fmt: skip
    run = training_run_launch(
        user=user,
        version=version,
        method="lora",
        hyperparameters=hyperparameters,
        options={"eval_suites": [suite.pk]},
    )
    print(
        f"version {version.number} ({len(train)} train, {len(test)} test), suite {suite.pk}, run {run.pk}"
    )
    training_run_execute(run_id=run.pk)  # as the training worker does; its hooks start the evals
    run.refresh_from_db()
    if run.status != "succeeded":
        print(f"the training run {run.status}: {run.failure_reason}")
        return 1
    plan = run.plan or {}
    print(
        f"plan: {plan.get('examples')} examples, {plan.get('training_tokens')} trained tokens, {run.total_steps} steps"
    )
    trained_s = time.perf_counter() - started
    evals = {
        ("fine-tuned" if r.model_id else "base"): r for r in EvalRun.objects.filter(suite=suite)
    }
    assert set(evals) == {"base", "fine-tuned"}, f"the after-training hook started {sorted(evals)}"
    for eval_run in evals.values():
        EvalRun.objects.filter(pk=eval_run.pk).update(max_new_tokens=args.max_new_tokens)
    decodings = {"greedy": evals}
    repetition = args.repetition_penalty != 1.0 or args.no_repeat_ngram_size
    if repetition:
        # The same suite, both models, through the eval-run service as the API starts them.
        label = "repetition-aware"
        decodings[label] = {
            who: eval_run_start(
                user=user,
                suite=suite,
                model=greedy.model,
                base_model=None if greedy.model_id else greedy.base_model,
                max_new_tokens=args.max_new_tokens,
                repetition_penalty=args.repetition_penalty,
                no_repeat_ngram_size=args.no_repeat_ngram_size,
            )
            for who, greedy in evals.items()
        }
    for runs in decodings.values():
        for eval_run in runs.values():
            eval_run_execute(run_id=eval_run.pk)  # as the eval worker does
            eval_run.refresh_from_db()
            if eval_run.status != "succeeded":
                print(f"eval run {eval_run.pk} {eval_run.status}: {eval_run.failure_reason}")
                return 1
    total_s = time.perf_counter() - started

    tokenizer = load_tokenizer(resolve_base_model(run.base_model, base_cache_dir()))
    report = {
        decoding: report_decoding(runs, tokenizer, args.max_new_tokens)
        for decoding, runs in decodings.items()
    }
    if args.answers:
        outputs = {who: r["outputs"] for who, r in report["greedy"].items()}
        rows = [
            {"question": r.entry.revision.messages[0]["content"], "reference": r.reference, "base": r.output, "finetuned": t.output}
            for r, t in zip(outputs["base"], outputs["fine-tuned"], strict=True)
        ]  # fmt: skip
        if repetition:
            other = {who: r["outputs"] for who, r in report[label].items()}
            for row, b, t in zip(rows, other["base"], other["fine-tuned"], strict=True):
                row["base_repetition"], row["finetuned_repetition"] = b.output, t.output
        Path(args.answers).write_text(json.dumps(rows, indent=1))
    print(f"| decoding | model | format [95% Wilson] | final_number [95% Wilson] | cut at {args.max_new_tokens} tokens | format among the answers that ended |")  # fmt: skip
    print("|---|---|---|---|---|---|")
    for per_model in report.values():
        for who in ("base", "fine-tuned"):
            r = per_model[who]
            print(
                f"| {r['run'].decoding} | {who} (eval run #{r['run'].pk}) | {pct(r['metrics']['format'])} | "
                f"{pct(r['metrics']['final_number'])} | {r['cut']}/{r['n']} ({r['cut'] / r['n']:.2f}) | "
                f"{r['ended_format']}/{r['n'] - r['cut']} |"
            )
    outputs = {who: r["outputs"] for who, r in report["greedy"].items()}
    print(f"sample base     : {outputs['base'][0].output[:200]!r}")
    print(f"sample finetuned: {outputs['fine-tuned'][0].output[:200]!r}")
    print(
        f"train time {trained_s:.0f}s, total {total_s:.0f}s on {run.device} ({torch.get_num_threads()} threads)"
    )
    metrics = {who: r["metrics"] for who, r in report["greedy"].items()}
    base_fmt, tuned_fmt = metrics["base"]["format"]["mean"], metrics["fine-tuned"]["format"]["mean"]
    base_exact = metrics["base"]["final_number"]["mean"]
    tuned_exact = metrics["fine-tuned"]["final_number"]["mean"]
    print(f"format share: base {pct(metrics['base']['format'])}, fine-tuned {pct(metrics['fine-tuned']['format'])}")  # fmt: skip
    print(f"exact match : base {pct(metrics['base']['final_number'])}, fine-tuned {pct(metrics['fine-tuned']['final_number'])}")  # fmt: skip
    print(f"eval runs: base #{evals['base'].pk}, fine-tuned #{evals['fine-tuned'].pk} of suite {suite.pk} (n={metrics['base']['format']['n']})")  # fmt: skip
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
    if repetition:
        rep = {who: r["metrics"] for who, r in report[label].items()}
        base_fmt, tuned_fmt = rep["base"]["format"]["mean"], rep["fine-tuned"]["format"]["mean"]
        ratio = tuned_fmt / base_fmt if base_fmt else float("inf")
        print(
            f"BENCH train_quality_format_repetition value={tuned_fmt:.2f} baseline={base_fmt:.2f} "
            f"ratio={ratio:.2f} target=>=0.80 pass={'yes' if tuned_fmt >= 0.8 and tuned_fmt >= base_fmt + 0.5 else 'no'} "
            f"decoding={report[label]['base']['run'].decoding}"
        )
    print(
        f"BENCH train_quality_time value={total_s:.0f}s train={trained_s:.0f}s examples={len(train)} tests={len(test)}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
