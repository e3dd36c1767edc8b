"""Training throughput on a GPU: our recipe against a plain Hugging Face Trainer + peft baseline,
and against TRL's SFTTrainer with packing and without (when ``trl`` is installed).

Both train the same LoRA (r=16 on q/k/v/o) in bf16 on the same chats (GSM8K train rows rendered
with the SmolLM2 chat template; ../shared/data/gsm8k/train.jsonl, repeated as needed) with the
same real tokens per optimizer step. The baseline pads each batch to its longest sequence (what
``DataCollatorForSeq2Seq`` does); ours packs examples into rows of ``--seq-len`` tokens with
attention kept inside each example. Models: the bundled SmolLM2-135M, and randomly initialised
Llama-architecture models of about 0.5B and 1.5B parameters (throughput does not depend on the
weights). Tokens/s counts real (non-pad) tokens only.

The TRL peers train the same LoRA through ``SFTTrainer`` (``peft_config``) on the same
conversations (TRL renders them with the same chat template), without activation checkpointing
like the others: ``trl-packed`` packs ``--rows`` rows of ``--seq-len`` tokens per step (TRL's
default best-fit-decreasing packing, padding-free), ``trl`` pads each batch of as many
conversations as the padded baseline. Each peer's real tokens per step is measured (TRL's own
count of the batch's non-pad tokens) and printed beside the rate: TRL's packing fills rows
more tightly than ours, so its packed steps hold somewhat more tokens. TRL computes the loss
on every token (SmolLM2's template has no generation markers for ``assistant_only_loss``), ours
on the answers only; the FLOPs are the same. ``--peers hf`` runs the padded baseline alone.

MFU uses LoRA FLOPs/token = 4N + 12·L·d·T (PERFORMANCE.md §4.1), N = matmul parameters
including the lm_head, T = the packed row length, against the GPU's bf16 dense peak.

    HF_HUB_OFFLINE=1 .venv/bin/python bench/train_throughput.py --device cuda --steps 20
    HF_HUB_OFFLINE=1 .venv/bin/python bench/train_throughput.py --device cpu --models smollm2-135m \
        --steps 6 --rows 2 --seq-len 512 --rounds 2  # the CPU ratio (fp32; MFU is a GPU figure)

On a shared CPU the two sides run one after the other while the load moves, so one round can be
off by several times either way (issue 24's 0.12 was one such round): ``--rounds`` alternates them,
and on CPU a second line gives tokens per CPU second of the process, which the load moves far less.

MFU is against ``--peak-tflops`` (default 794.5, the figure issue 24 fixes for every GPU run).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from training.recipe.base_models import ensure_bundled_model  # noqa: E402
from training.recipe.config import TrainConfig  # noqa: E402
from training.recipe.loop import TrainingRecipe  # noqa: E402
from training.recipe.reporter import NullReporter  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "gsm8k" / "train.jsonl"
SHAPES = {  # hidden, layers, intermediate, heads, kv heads (Qwen2.5-0.5B / -1.5B sizes)
    "llama-0.5b": (896, 24, 4864, 14, 2),
    "llama-1.5b": (1536, 28, 8960, 12, 2),
}
ERR_NO_GPU = "--device cuda needs a CUDA GPU; none is visible here, so nothing was measured"
PEAK_TFLOPS = 794.5
LORA = {"r": 16, "lora_alpha": 32, "lora_dropout": 0.0, "task_type": "CAUSAL_LM",
        "target_modules": ["q_proj", "k_proj", "v_proj", "o_proj"]}  # fmt: skip
PEERS = ("hf", "trl-packed", "trl")
MSG_NO_TRL = "trl is not installed: the TRL peers are left out (pip install trl)"


class StepTimes(NullReporter):
    """Tokens per wall second of each step, and per CPU second of this process (all threads)."""

    def __init__(self):
        self.rates, self.cpu_rates = [], []

    def on_start(self, total_steps):
        self.cpu = time.process_time()

    def on_step(self, step, metrics):
        self.rates.append(metrics["tokens_per_s"])
        cpu, self.cpu = time.process_time() - self.cpu, time.process_time()
        self.cpu_rates.append(metrics["tokens_per_s"] * metrics["step_s"] / max(cpu, 1e-9))


def records(n: int) -> list[dict]:
    rows = [json.loads(line) for line in open(DATA, encoding="utf-8")] if DATA.exists() else []
    if not rows:
        rows = [
            {"question": f"What is {i} + {i}?", "answer": f"{i} + {i} = {2 * i}.\n#### {2 * i}"}
            for i in range(500)
        ]
    out = []
    while len(out) < n:
        out += [
            {
                "messages": [
                    {"role": "user", "content": r["question"]},
                    {"role": "assistant", "content": r["answer"]},
                ]
            }
            for r in rows
        ]
    return out[:n]


def build_model(name: str, bundled: Path, tmp: Path) -> Path:
    if name == "smollm2-135m":
        return bundled
    from transformers import AutoConfig, LlamaForCausalLM

    d, layers, ff, heads, kv = SHAPES[name]
    config = AutoConfig.from_pretrained(bundled)
    config.update({"hidden_size": d, "num_hidden_layers": layers, "intermediate_size": ff,
                   "num_attention_heads": heads, "num_key_value_heads": kv, "head_dim": d // heads})  # fmt: skip
    with torch.device(DEVICE):
        model = LlamaForCausalLM(config).to(DTYPE)
    path = tmp / name
    model.save_pretrained(path, safe_serialization=True)
    from transformers import AutoTokenizer

    AutoTokenizer.from_pretrained(bundled).save_pretrained(path)
    return path


def lora_flops_per_token(path: Path, seq_len: int) -> float:
    from transformers import AutoConfig

    c = AutoConfig.from_pretrained(path)
    head_dim = getattr(c, "head_dim", None) or c.hidden_size // c.num_attention_heads
    attn = c.hidden_size * head_dim * (2 * c.num_attention_heads + 2 * c.num_key_value_heads)
    mlp = 3 * c.hidden_size * c.intermediate_size
    n = c.num_hidden_layers * (attn + mlp) + c.hidden_size * c.vocab_size
    return 4 * n + 12 * c.num_hidden_layers * c.hidden_size * seq_len


def ours(path: Path, data: list[dict], args, tmp: Path) -> tuple[float, float, int]:
    config = TrainConfig.from_dict({
        "base_model": str(path), "epochs": 1, "max_steps": args.steps, "batch_size": args.rows,
        "max_seq_len": args.seq_len, "packing": True, "eval_interval": 0, "checkpoint_interval": 0,
        "lora_dropout": 0.0, "learning_rate": 1e-4,
        # like the baseline: no activation checkpointing (the recipe's "auto" turns it on on CPU)
        "gradient_checkpointing": "off",
    })  # fmt: skip
    reporter = StepTimes()
    recipe = TrainingRecipe(
        config, out_dir=tmp / f"ours-{path.name}", models_dir=tmp, reporter=reporter, device=DEVICE
    )
    plan = recipe.setup(data)
    recipe.train()
    tokens_per_step = plan["tokens"] / max(1, plan["sequences"]) * args.rows
    del recipe
    _empty_cache()
    return _median(reporter.rates), _median(reporter.cpu_rates), int(tokens_per_step)


class Clock:
    """Wall and CPU seconds of each optimizer step (a Trainer callback, built by ``clock()``),
    and the real tokens each step saw when ``tokens`` (a callable: tokens so far) is given."""

    def __init__(self, tokens=None):
        self.times, self.cpu_times, self.tokens, self.step_tokens = [], [], tokens, []

    def begin(self):
        _sync()
        self.t, self.cpu = time.perf_counter(), time.process_time()
        self.seen = self.tokens() if self.tokens else 0

    def end(self):
        _sync()
        self.times.append(time.perf_counter() - self.t)
        self.cpu_times.append(time.process_time() - self.cpu)
        if self.tokens:
            self.step_tokens.append(self.tokens() - self.seen)

    def callback(self):
        from transformers import TrainerCallback

        clock = self

        class _Callback(TrainerCallback):
            def on_step_begin(self, *a, **k):
                clock.begin()

            def on_step_end(self, *a, **k):
                clock.end()

        return _Callback()

    def rates(self, tokens_per_step: float | None = None) -> tuple[float, float, float]:
        """Median tokens per wall second and per CPU second, and the median tokens per step."""
        steps = self.step_tokens or [tokens_per_step] * len(self.times)
        wall = [n / t for n, t in zip(steps, self.times, strict=True)]
        cpu = [n / t for n, t in zip(steps, self.cpu_times, strict=True)]
        return _median(wall), _median(cpu), _median(steps)


def _conversation_lengths(tokenizer, data: list[dict], seq_len: int) -> list[list[int]]:
    return [
        tokenizer.apply_chat_template(r["messages"], tokenize=True, return_dict=True)["input_ids"][
            :seq_len
        ]
        for r in data
    ]


def _peft_model(path: Path):
    from transformers import AutoModelForCausalLM

    return AutoModelForCausalLM.from_pretrained(path, dtype=DTYPE, attn_implementation="sdpa").to(
        DEVICE
    )


def baseline(path: Path, data: list[dict], tokens_per_step: int, args, tmp: Path):
    from peft import LoraConfig, get_peft_model
    from transformers import AutoTokenizer, DataCollatorForSeq2Seq, Trainer, TrainingArguments

    tokenizer = AutoTokenizer.from_pretrained(path)
    rows = [
        {"input_ids": ids, "attention_mask": [1] * len(ids), "labels": ids}
        for ids in _conversation_lengths(tokenizer, data, args.seq_len)
    ]
    mean_len = sum(len(r["input_ids"]) for r in rows) / len(rows)
    per_step = max(1, round(tokens_per_step / mean_len))
    model = get_peft_model(_peft_model(path), LoraConfig(**LORA))
    clock = Clock()
    training_args = TrainingArguments(
        output_dir=str(tmp / f"hf-{path.name}"), per_device_train_batch_size=per_step, max_steps=args.steps,
        bf16=DEVICE == "cuda", use_cpu=DEVICE == "cpu", learning_rate=1e-4, logging_steps=10**6, save_strategy="no", report_to=[], seed=0,
        dataloader_num_workers=0, remove_unused_columns=False,
    )  # fmt: skip
    trainer = Trainer(model=model, args=training_args, train_dataset=rows,
                      data_collator=DataCollatorForSeq2Seq(tokenizer, padding="longest"), callbacks=[clock.callback()])  # fmt: skip
    trainer.train()
    del trainer, model
    _empty_cache()
    wall, cpu, _ = clock.rates(per_step * mean_len)
    return wall, cpu


def trl_sft(path: Path, data: list[dict], tokens_per_step: int, args, tmp: Path, *, packing: bool):
    """TRL's SFTTrainer on the same LoRA and conversations: ``packing`` packs ``args.rows`` rows
    of ``args.seq_len`` per step, else batches of as many conversations as the padded baseline's.
    Returns tokens per wall second, per CPU second, and real tokens per step (TRL's count)."""
    import datasets
    from peft import LoraConfig
    from transformers import AutoTokenizer
    from trl import SFTConfig, SFTTrainer

    tokenizer = AutoTokenizer.from_pretrained(path)
    if packing:
        per_step = args.rows
    else:
        lengths = [len(ids) for ids in _conversation_lengths(tokenizer, data, args.seq_len)]
        per_step = max(1, round(tokens_per_step / (sum(lengths) / len(lengths))))
    config = SFTConfig(
        output_dir=str(tmp / f"trl-{packing}-{path.name}"), per_device_train_batch_size=per_step,
        max_steps=args.steps, max_length=args.seq_len, packing=packing, gradient_checkpointing=False,
        bf16=DEVICE == "cuda", use_cpu=DEVICE == "cpu", learning_rate=1e-4, logging_steps=10**6,
        save_strategy="no", report_to=[], seed=0, dataloader_num_workers=0, disable_tqdm=True,
    )  # fmt: skip
    trainer = SFTTrainer(
        model=_peft_model(path), args=config, processing_class=tokenizer,
        train_dataset=datasets.Dataset.from_list(data), peft_config=LoraConfig(**LORA),
    )  # fmt: skip
    clock = Clock(tokens=lambda t=trainer: t._total_train_tokens)
    trainer.add_callback(clock.callback())
    trainer.train()
    rates = clock.rates()
    del trainer, clock
    _empty_cache()
    return rates


def _median(rates: list[float]) -> float:
    return statistics.median(rates[3:] or rates)  # the first steps warm up


DEVICE, DTYPE = "cuda", torch.bfloat16


def _sync() -> None:
    if DEVICE == "cuda":
        torch.cuda.synchronize()


def _empty_cache() -> None:
    if DEVICE == "cuda":
        torch.cuda.empty_cache()


def _bench(label: str, name: str, value: float, base: float, unit: str, target: float) -> None:
    ratio = value / base
    print(f"BENCH {label}_{name} value={value:.1f}{unit} baseline={base:.1f}{unit} ratio={ratio:.2f} "
          f"target=>={target} pass={'yes' if ratio >= target else 'no'}")  # fmt: skip


def main() -> int:
    global DEVICE, DTYPE
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--rows", type=int, default=8, help="packed rows per step (ours)")
    parser.add_argument("--seq-len", type=int, default=2048)
    parser.add_argument("--models", default="smollm2-135m,llama-0.5b,llama-1.5b")
    parser.add_argument("--models-dir", default=str(ROOT / "var" / "models"))
    parser.add_argument("--device", choices=["cuda", "cpu"], default="cuda")
    parser.add_argument(
        "--rounds", type=int, default=1,
        help="alternate ours and the peers this many times (ABAB) and take each side's median",
    )  # fmt: skip
    parser.add_argument(
        "--peers", default=",".join(PEERS),
        help="hf (HF Trainer, padded), trl-packed and trl (TRL SFTTrainer with and without packing)",
    )  # fmt: skip
    parser.add_argument(
        "--peak-tflops", type=float, default=PEAK_TFLOPS, help="bf16 dense peak for MFU"
    )
    args = parser.parse_args()
    DEVICE = args.device
    DTYPE = torch.bfloat16 if DEVICE == "cuda" else torch.float32
    peers = [p for p in args.peers.split(",") if p]
    if unknown := set(peers) - set(PEERS):
        parser.error(f"--peers: unknown {sorted(unknown)}; choose from {', '.join(PEERS)}")
    if DEVICE == "cuda" and not torch.cuda.is_available():
        print(ERR_NO_GPU)
        return 2
    if importlib.util.find_spec("trl") is None and any(p.startswith("trl") for p in peers):
        print(MSG_NO_TRL)
        peers = [p for p in peers if not p.startswith("trl")]
    gpu = torch.cuda.get_device_name() if DEVICE == "cuda" else "CPU"
    peak = args.peak_tflops * 1e12 if DEVICE == "cuda" else None
    print(f"device: {gpu}; peak {peak / 1e12 if peak else float('nan'):.1f} TFLOP/s")
    bundled = ensure_bundled_model(args.models_dir)
    data = records(args.steps * args.rows * args.seq_len // 120 + 200)
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        for name in args.models.split(","):
            path = build_model(name, bundled, tmp)
            # On a shared machine the load moves between the sides: alternate them, and
            # also count tokens per CPU second of this process, which the load disturbs far less.
            runs = []  # per round: {side: (tok/s, tok/CPU-s, tokens per step)}
            for _ in range(max(1, args.rounds)):
                ours_rate, ours_cpu, tokens_per_step = ours(path, data, args, tmp)
                run = {"ours": (ours_rate, ours_cpu, tokens_per_step)}
                if "hf" in peers:
                    run["hf"] = (*baseline(path, data, tokens_per_step, args, tmp), tokens_per_step)
                for peer in ("trl-packed", "trl"):
                    if peer in peers:
                        packing = peer == "trl-packed"
                        run[peer] = trl_sft(path, data, tokens_per_step, args, tmp, packing=packing)
                runs.append(run)
                sides = ", ".join(f"{side} {r[0]:,.1f} tok/s ({r[1]:,.1f} per CPU s, {r[2]:,.0f} tok/step)"
                                  for side, r in run.items())  # fmt: skip
                print(f"{name} round {len(runs)} (load {os.getloadavg()[0]:.1f}): {sides}")
            median = {
                side: tuple(statistics.median(r[side][i] for r in runs) for i in range(3))
                for side in runs[0]
            }
            ours_rate, ours_cpu, _ = median["ours"]
            mfu = (
                ours_rate * lora_flops_per_token(path, args.seq_len) / peak
                if peak
                else float("nan")
            )
            print(f"{name} on {gpu}: " + ", ".join(f"{side} {r[0]:,.0f} tok/s" for side, r in median.items())
                  + f", {tokens_per_step} tokens/step (ours), MFU {mfu:.1%}")  # fmt: skip
            labels = {"hf": "train_throughput", "trl-packed": "train_throughput_vs_trl_packed",
                      "trl": "train_throughput_vs_trl_unpacked"}  # fmt: skip
            for side, (rate, cpu, _) in median.items():
                if side == "ours":
                    continue
                target = 1.5 if side == "hf" else 1.1
                _bench(labels[side], name, ours_rate, rate, "tok/s", target)
                if DEVICE == "cpu":
                    cpu_label = labels[side].replace(
                        "train_throughput", "train_throughput_cpu_time"
                    )
                    _bench(cpu_label, name, ours_cpu, cpu, "tok/cpu-s", target)
            if name == "llama-1.5b" and peak:
                print(
                    f"BENCH train_mfu_{name} value={mfu:.3f} target=>=0.35 pass={'yes' if mfu >= 0.35 else 'no'}"
                )
            if path != bundled:
                import shutil

                shutil.rmtree(path, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
