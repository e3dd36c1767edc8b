"""Pre-flight: what a run will train on and roughly what it will cost, before it is launched.

Token counts come from the base model's own tokenizer and chat template (the recipe's
``encode_records`` and ``plan``), so they are exact. Time and memory are estimates:

* **time** — measured: when this server already finished runs of the same base model and method,
  the median tokens/s of their second halves (the first steps include warm-up); otherwise
  computed: tokens × FLOPs per token ÷ an assumed throughput. FLOPs per token follow
  PERFORMANCE.md: LoRA ``4N + 12·L·d·T``, full fine-tuning ``6N + 12·L·d·T`` (N parameters,
  L layers, d width, T sequence length). Assumed throughput: CPU ``CPU_FLOPS``; a GPU 35 % of
  its bf16 peak (a table by name, ``DEFAULT_GPU_PEAK`` for others).
* **memory** — weights (4 bytes per parameter on CPU, 2 on GPU) + trainable parameters × 16 bytes
  (weights, gradients, two AdamW moments in fp32) + activations ≈ batch × T × L × d × 34 bytes
  (halved-precision rule of Korthikanti et al., doubled on CPU for fp32) — with gradient
  checkpointing (CPU by default) only each layer's input plus one layer's activations — + logits
  batch × T × vocab × 8 bytes (16 in fp32 on CPU; at most ``CHUNK_TOKENS`` × vocab for the
  plain heads the recipe projects a chunk at a time) + on CPU ~1 GiB of resident runtime (the figure
  there is peak RSS). A guide, not a promise: docs/benchmarks.md compares it with measurements.

The device is the one finished runs recorded, else ``FINETUNEDB_TRAINING_DEVICE``, else what this
machine has (the embedded default runs its worker here).
"""

from __future__ import annotations

import json
import statistics
from functools import lru_cache
from pathlib import Path

from django.conf import settings

from finetunedb.exceptions import ApplicationError
from training.recipe.base_models import BaseModelError, load_tokenizer, resolve_base_model
from training.recipe.batching import plan as recipe_plan
from training.recipe.data import TemplateError, encode_records, preview
from training.recipe.losses import CHUNK_TOKENS, PLAIN_HEAD

from ..models import RunStatus, TrainingRun
from .base_models import base_cache_dir
from .records import training_splits, version_record, version_records
from .runs import training_config_build

CPU_FLOPS = 3e10  # measured here: SmolLM2-135M LoRA, 2 shared cores, ~60 tokens/s at T=512
# On CPU the figure is the worker's peak RSS, which starts with torch, transformers and the
# tokenizer resident (measured ~1 GiB before the model loads).
CPU_RUNTIME_BYTES = 1 << 30
GPU_MFU = 0.35
GPU_PEAK = {"H100": 989e12, "H200": 989e12, "A100": 312e12, "L40": 181e12, "L4": 121e12}
DEFAULT_GPU_PEAK = 100e12
MEASURED_RUNS = 5
LORA_DIMS = {
    "q_proj": ("d", "q"),
    "k_proj": ("d", "kv"),
    "v_proj": ("d", "kv"),
    "o_proj": ("q", "d"),
    "gate_proj": ("d", "ff"),
    "up_proj": ("d", "ff"),
    "down_proj": ("ff", "d"),
}
LISTED = 200

NOT_IN_VERSION = "Example {id} is not part of this version."
MODEL_UNAVAILABLE = "The base model cannot be used: {reason}"


@lru_cache(maxsize=4)
def _tokenizer(path: str):
    return load_tokenizer(path)


def _resolve(base_model: str) -> str:
    try:
        return resolve_base_model(base_model, base_cache_dir())
    except BaseModelError as exc:
        message = MODEL_UNAVAILABLE.format(reason=exc)
        raise ApplicationError(
            message, errors=[{"path": "base_model", "message": message}]
        ) from exc


def training_preflight(*, version, base_model=None, method=None, hyperparameters=None) -> dict:
    """Tokens, steps, dropped/truncated examples (with ids) and the time/memory estimate."""
    config = training_config_build(
        base_model=base_model, method=method, hyperparameters=hyperparameters
    )
    path = _resolve(config.base_model)
    tokenizer = _tokenizer(path)
    split = training_splits(version)["train"]
    records = version_records(version, split)
    # Under "error" the run would refuse these; count as if dropped and say it would fail.
    policy = "drop" if config.overlength == "error" else config.overlength
    try:
        encoded = encode_records(
            records, tokenizer, max_seq_len=config.max_seq_len, overlength=policy
        )
    except TemplateError as exc:
        raise ApplicationError(
            str(exc), errors=[{"path": "base_model", "message": str(exc)}]
        ) from exc
    figures = recipe_plan(encoded, config)
    for listing in (figures["dropped"], figures["truncated"]):
        for item in listing:
            item.pop("index", None)
    too_long = [d for d in figures["dropped"] if d["reason"] == "too_long"]
    return {
        "config": config.to_dict(),
        "train_split": split,
        **{k: v for k, v in figures.items() if k not in ("dropped", "truncated")},
        "epochs": config.epochs,
        "dropped_count": len(figures["dropped"]),
        "truncated_count": len(figures["truncated"]),
        "dropped": figures["dropped"][:LISTED],
        "truncated": figures["truncated"][:LISTED],
        "would_fail": config.overlength == "error" and bool(too_long),
        "estimate": estimate(figures, config, path),
    }


def _model_shape(path: str) -> dict:
    config = json.loads((Path(path) / "config.json").read_text())
    d = config["hidden_size"]
    heads = config.get("num_attention_heads", 1)
    head_dim = config.get("head_dim") or d // heads
    return {
        "layers": config["num_hidden_layers"],
        "d": d,
        "q": heads * head_dim,
        "kv": config.get("num_key_value_heads", heads) * head_dim,
        "ff": config.get("intermediate_size", 4 * d),
        "vocab": config.get("vocab_size", 32000),
        "model_type": config.get("model_type", ""),
    }


def _parameters(path: str) -> int:
    from safetensors import safe_open

    total = 0
    for file in sorted(Path(path).glob("*.safetensors")):
        with safe_open(str(file), "pt") as weights:
            for name in weights.keys():  # noqa: SIM118 - safe_open is not a mapping
                shape = weights.get_slice(name).get_shape()
                count = 1
                for size in shape:
                    count *= size
                total += count
    return total


def _device() -> tuple[str, str]:
    """(kind, name) of the device the worker trains on."""
    last = (
        TrainingRun.objects.filter(status=RunStatus.SUCCEEDED)
        .exclude(device="")
        .values_list("device", flat=True)
        .first()
    )
    device = last or settings.FINETUNEDB_TRAINING_DEVICE
    if not device:
        import torch

        device = "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda"):
        import torch

        name = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "GPU"
        return "cuda", name
    return "cpu", "CPU"


def _measured_tokens_per_s(config) -> tuple[float | None, list[int]]:
    runs = TrainingRun.objects.filter(
        status=RunStatus.SUCCEEDED, base_model=config.base_model, method=config.method
    ).values_list("pk", "metrics")[:MEASURED_RUNS]
    rates, ids = [], []
    for pk, metrics in runs:
        points = [p["tokens_per_s"] for p in metrics or [] if p.get("tokens_per_s")]
        if points:
            rates.append(statistics.median(points[len(points) // 2 :]))
            ids.append(pk)
    return (statistics.median(rates), ids) if rates else (None, [])


def estimate(figures: dict, config, path: str) -> dict:
    shape, n = _model_shape(path), _parameters(path)
    steps_all = figures["steps_per_epoch"] * config.epochs
    share = figures["total_steps"] / steps_all if steps_all else 0.0
    tokens = figures["tokens"] * config.epochs * share
    seq = config.max_seq_len if config.packing else max(figures["longest"], 1)
    attention = 12 * shape["layers"] * shape["d"] * seq
    per_token = (4 if config.method == "lora" else 6) * n + attention
    kind, name = _device()
    measured, from_runs = _measured_tokens_per_s(config)
    if measured:
        tokens_per_s, source = measured, "measured"
    else:
        peak = next((v for k, v in GPU_PEAK.items() if k in name), DEFAULT_GPU_PEAK)
        flops = CPU_FLOPS if kind == "cpu" else peak * GPU_MFU
        tokens_per_s, source = flops / per_token, "flops"
    if config.method == "lora":
        trainable = (
            sum(
                config.lora_r
                * (shape[LORA_DIMS.get(m, ("d", "d"))[0]] + shape[LORA_DIMS.get(m, ("d", "d"))[1]])
                for m in config.lora_target_modules
            )
            * shape["layers"]
        )
    else:
        trainable = n
    weight_bytes = 4 if kind == "cpu" else 2
    rows = config.batch_size * seq
    layer_activations = rows * shape["d"] * 34 * (2 if kind == "cpu" else 1)
    checkpointing = config.gradient_checkpointing == "on" or (
        config.gradient_checkpointing == "auto" and kind == "cpu"
    )
    # Checkpointing keeps each layer's input only and recomputes one layer at a time.
    activations = (
        rows * shape["layers"] * shape["d"] * weight_bytes + layer_activations
        if checkpointing
        else layer_activations * shape["layers"]
    )
    # Logits, their log-softmax and both gradients: 4 × fp32 on CPU, half that in bf16 on GPU.
    # Plain heads project a chunk of trained tokens at a time (recipe/losses.py).
    logit_bytes = 16 if kind == "cpu" else 8
    projected = min(rows, CHUNK_TOKENS) if shape["model_type"] in PLAIN_HEAD else rows
    memory = (
        n * weight_bytes
        + trainable * 16
        + activations
        + projected * shape["vocab"] * logit_bytes
        + (CPU_RUNTIME_BYTES if kind == "cpu" else 0)
    )
    return {
        "device": kind,
        "device_name": name,
        "parameters": n,
        "trainable_parameters": trainable,
        "flops_per_token": per_token,
        "tokens": int(tokens),
        "tokens_per_s": tokens_per_s,
        "seconds": tokens / tokens_per_s if tokens_per_s else None,
        "memory_bytes": int(memory),
        "gradient_checkpointing": checkpointing,
        "source": source,
        "measured_runs": from_runs,
    }


def training_preview(*, version, example_id, base_model=None, max_seq_len=None) -> dict:
    """What the model will see for one example of the version: tokens, trained flags, kept flags."""
    record = version_record(version, example_id)
    if record is None:
        message = NOT_IN_VERSION.format(id=example_id)
        raise ApplicationError(message, errors=[{"path": "example", "message": message}])
    config = training_config_build(
        base_model=base_model,
        method=None,
        hyperparameters={"max_seq_len": max_seq_len} if max_seq_len else {},
    )
    tokenizer = _tokenizer(_resolve(config.base_model))
    try:
        tokens = preview(record, tokenizer, max_seq_len=config.max_seq_len)
    except TemplateError as exc:
        raise ApplicationError(
            str(exc), errors=[{"path": "base_model", "message": str(exc)}]
        ) from exc
    return {
        "example": record["id"],
        "split": record["split"],
        "base_model": config.base_model,
        "max_seq_len": config.max_seq_len,
        "tokens": tokens,
        "total": len(tokens),
        "trained": sum(1 for t in tokens if t["trained"]),
    }
