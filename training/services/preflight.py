"""Pre-flight: what a run will train on and roughly what it will cost, before it is launched.

Token counts come from the base model's own tokenizer and chat template (the recipe's
``encode_records`` and ``plan``), so they are exact. Time and memory are estimates:

* **time** — measured: when this server already finished runs of the same base model and method,
  the median tokens/s of their second halves (the first steps include warm-up); otherwise
  computed: tokens × FLOPs per token ÷ an assumed throughput. FLOPs per token follow
  PERFORMANCE.md: LoRA ``4N + 12·L·d·T``, full fine-tuning ``6N + 12·L·d·T`` (N parameters,
  L layers, d width, T the widest row: a padded batch is that wide and attention spans the whole
  row). Assumed throughput: CPU ``CPU_FLOPS``; a GPU 35 % of its bf16 peak (a table by name,
  ``DEFAULT_GPU_PEAK`` for others). A measured rate is converted to FLOPs/s with the FLOPs per
  token of the run it was measured on, so a longer T here is slower. Tokens are padded tokens
  (each batch as wide as its widest row); every evaluation on the validation records
  (``2N + 4·L·d·T`` per token, forward only) is added.
* **memory** — weights (4 bytes per parameter on CPU, 2 on GPU) + trainable parameters × 16 bytes
  (weights, gradients, two AdamW moments in fp32) + activations ≈ batch × T × L × d × 34 bytes
  (halved-precision rule of Korthikanti et al., doubled on CPU for fp32) — with gradient
  checkpointing (CPU by default) only each layer's input plus one layer's activations — + logits
  batch × T × vocab × 8 bytes (16 in fp32 on CPU; at most ``CHUNK_TOKENS`` × vocab for the
  plain heads the recipe projects a chunk at a time) + the packed rows' block-diagonal attention
  mask, batch × T² × 6 bytes on CPU (measured: the boolean mask and SDPA's float copy of it; 3
  assumed on GPU) + on CPU ~1 GiB of resident runtime (the figure there is peak RSS). Batch is
  min(batch_size, rows) and T the widest row, the largest batch a run can meet. A guide, not a
  promise: docs/benchmarks.md compares it with measurements; services/budget.py refuses a launch
  whose estimate exceeds the worker's budget.

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
from training.recipe.batching import epoch_batches, make_rows
from training.recipe.batching import plan as recipe_plan
from training.recipe.data import TemplateError, encode_records, preview
from training.recipe.losses import CHUNK_TOKENS, PLAIN_HEAD

from ..models import RunStatus, TrainingRun
from .base_models import base_cache_dir
from .budget import training_budget, training_budget_require
from .calibration import training_estimate_calibrate
from .records import training_splits, version_record, version_records
from .runs import training_config_build

CPU_FLOPS = 3e10  # measured here: SmolLM2-135M LoRA, 2 shared cores, ~60 tokens/s at T=512
# On CPU the figure is the worker's peak RSS, which starts with torch, transformers and the
# tokenizer resident (measured ~1 GiB before the model loads).
CPU_RUNTIME_BYTES = 1 << 30
# Bytes per entry of a batch's T × T attention mask: measured 5.5 on CPU (bool mask + SDPA's
# float copy); on GPU a bool mask and a bf16 bias are assumed.
MASK_BYTES = {"cpu": 6, "cuda": 3}
# Hub files the pre-flight reads: config, safetensors headers, tokenizer and chat template.
HUB_FILES = ["*.json", "*.safetensors", "*.model", "*.txt", "*.jinja", "*.tiktoken"]
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
MODEL_NOT_HERE = (
    "base model {name!r} is not on this server yet: the worker downloads it when a run starts "
    "and checks the run's budget then"
)


@lru_cache(maxsize=4)
def _tokenizer(path: str):
    return load_tokenizer(path)


def _unavailable(reason) -> ApplicationError:
    message = MODEL_UNAVAILABLE.format(reason=reason)
    return ApplicationError(message, errors=[{"path": "base_model", "message": message}])


def _resolve(base_model: str, *, download: bool = False) -> str | None:
    """The local folder of the base model; a hub id's snapshot (config, tokenizer, weights),
    downloaded only when ``download`` (the worker), else None when it is not cached here."""
    try:
        path = resolve_base_model(base_model, base_cache_dir())
    except BaseModelError as exc:
        raise _unavailable(exc) from exc
    if Path(path).is_dir():
        return path
    from huggingface_hub import snapshot_download

    try:
        return snapshot_download(path, allow_patterns=HUB_FILES, local_files_only=not download)
    except (OSError, ValueError) as exc:  # not cached, offline, unknown repo, network
        if not download:
            return None
        raise _unavailable(exc) from exc


def training_preflight(*, version, base_model=None, method=None, hyperparameters=None) -> dict:
    """Tokens, steps, dropped/truncated examples (with ids), the time/memory estimate and the
    worker's budget (``budget.over`` lists what a launch would be refused for)."""
    config = training_config_build(
        base_model=base_model, method=method, hyperparameters=hyperparameters
    )
    path = _resolve(config.base_model)
    if path is None:
        message = MODEL_NOT_HERE.format(name=config.base_model)
        raise ApplicationError(message, errors=[{"path": "base_model", "message": message}])
    split = training_splits(version)["train"]
    report = _report(config, path, version_records(version, split), _validation_count(version))
    return {"train_split": split, **report}


def training_run_budget_require(*, config, train: list[dict], validation: list[dict]) -> dict:
    """The worker's check when it starts a run, on its own device and limits; the estimate it
    checked (the run stores it, to be compared with what it measures)."""
    path = _resolve(config.base_model, download=True)
    report = _report(config, path, train, min(len(validation), config.eval_max_records), here=True)
    training_budget_require(report["estimate"])
    return report["estimate"]


def _validation_count(version) -> int:
    split = training_splits(version)["validation"]
    return (version.counts or {}).get(split, 0) if split else 0


def _report(config, path: str, records, validation: int, *, here: bool = False) -> dict:
    tokenizer = _tokenizer(path)
    if config.is_preference:  # pairs: both sides and DPO's reference pass (preflight_pairs)
        from .preflight_pairs import pair_report

        return pair_report(config, path, records, validation, tokenizer=tokenizer, here=here)
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
    rows = make_rows(encoded, max_seq_len=config.max_seq_len, packing=config.packing)
    for listing in (figures["dropped"], figures["truncated"]):
        for item in listing:
            item.pop("index", None)
    too_long = [d for d in figures["dropped"] if d["reason"] == "too_long"]
    mean_tokens = figures["tokens"] / len(encoded.examples) if encoded.examples else 0
    figures_estimate = estimate(
        figures,
        config,
        path,
        rows=rows,
        validation_tokens=int(min(validation, config.eval_max_records) * mean_tokens),
        here=here,
    )
    return {
        "config": config.to_dict(),
        **{k: v for k, v in figures.items() if k not in ("dropped", "truncated")},
        "epochs": config.epochs,
        "dropped_count": len(figures["dropped"]),
        "truncated_count": len(figures["truncated"]),
        "dropped": figures["dropped"][:LISTED],
        "truncated": figures["truncated"][:LISTED],
        "would_fail": config.overlength == "error" and bool(too_long),
        "estimate": figures_estimate,
        "budget": training_budget(figures_estimate),
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


def _device(*, here: bool = False) -> tuple[str, str]:
    """(kind, name) of the device the worker trains on; ``here`` in the worker itself."""
    last = None
    if not here:
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


def _flops_per_token(method: str, n: int, shape: dict, seq: float) -> float:
    return (4 if method == "lora" else 6) * n + 12 * shape["layers"] * shape["d"] * seq


def _measured_flops_per_s(config, n: int, shape: dict) -> tuple[float | None, list[int]]:
    """FLOPs/s of earlier runs of the model and method: each run's median tokens/s of its second
    half times the FLOPs per token at its own mean row width (None when it recorded no plan)."""
    runs = TrainingRun.objects.filter(
        status=RunStatus.SUCCEEDED, base_model=config.base_model, method=config.method
    ).values_list("pk", "metrics", "plan")[:MEASURED_RUNS]
    rates, ids = [], []
    for pk, metrics, plan in runs:
        points = [p["tokens_per_s"] for p in metrics or [] if p.get("tokens_per_s")]
        if points:
            plan = plan or {}
            width = plan["tokens"] / plan["sequences"] if plan.get("sequences") else None
            per_token = _flops_per_token(config.method, n, shape, width) if width else None
            rates.append((statistics.median(points[len(points) // 2 :]), per_token))
            ids.append(pk)
    return (rates, ids) if rates else (None, [])


def _padded_tokens(rows, config) -> int:
    """Tokens one epoch computes: each batch is as wide as its widest row."""
    batches = epoch_batches(rows, batch_size=config.batch_size, seed=config.seed, epoch=0)
    return sum(len(b) * max(sum(len(ex.input_ids) for ex in row) for row in b) for b in batches)


def estimate(
    figures: dict, config, path: str, *, rows, validation_tokens: int = 0, here: bool = False
) -> dict:
    shape, n = _model_shape(path), _parameters(path)
    steps_all = figures["steps_per_epoch"] * config.epochs
    share = figures["total_steps"] / steps_all if steps_all else 0.0
    tokens = figures["tokens"] * config.epochs * share
    computed = _padded_tokens(rows, config) * config.epochs * share
    seq = max((sum(len(ex.input_ids) for ex in row) for row in rows), default=1)
    per_token = _flops_per_token(config.method, n, shape, seq)
    kind, name = _device(here=here)
    measured, from_runs = _measured_flops_per_s(config, n, shape)
    peak = next((v for k, v in GPU_PEAK.items() if k in name), DEFAULT_GPU_PEAK)
    assumed = CPU_FLOPS if kind == "cpu" else peak * GPU_MFU
    if measured:
        # A run with no recorded plan is taken at this run's FLOPs per token.
        flops = statistics.median(rate * (run or per_token) for rate, run in measured)
        source = "measured"
    else:
        flops, source = assumed, "flops"
    tokens_per_s = flops / per_token
    evaluations = (
        figures["total_steps"] // config.eval_interval if config.eval_interval else 0
    ) + 1
    eval_flops = evaluations * validation_tokens * (2 * n + 4 * shape["layers"] * shape["d"] * seq)
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
    batch = min(config.batch_size, len(rows))
    row_tokens = batch * seq
    layer_activations = row_tokens * shape["d"] * 34 * (2 if kind == "cpu" else 1)
    checkpointing = config.gradient_checkpointing == "on" or (
        config.gradient_checkpointing == "auto" and kind == "cpu"
    )
    # Checkpointing keeps each layer's input only and recomputes one layer at a time.
    activations = (
        row_tokens * shape["layers"] * shape["d"] * weight_bytes + layer_activations
        if checkpointing
        else layer_activations * shape["layers"]
    )
    # Logits, their log-softmax and both gradients: 4 × fp32 on CPU, half that in bf16 on GPU.
    # Plain heads project a chunk of trained tokens at a time (recipe/losses.py).
    logit_bytes = 16 if kind == "cpu" else 8
    projected = min(row_tokens, CHUNK_TOKENS) if shape["model_type"] in PLAIN_HEAD else row_tokens
    memory = (
        n * weight_bytes
        + trainable * 16
        + activations
        + projected * shape["vocab"] * logit_bytes
        + batch * seq * seq * MASK_BYTES[kind]
        + (CPU_RUNTIME_BYTES if kind == "cpu" else 0)
    )
    train_seconds = computed / tokens_per_s
    eval_seconds = eval_flops / flops
    # The same work at the assumed throughput: the fixed yardstick calibration compares
    # measured runs with (services/calibration.py), whichever source gave ``seconds``.
    model_seconds = (computed * per_token + eval_flops) / assumed
    figures = {
        "device": kind,
        "device_name": name,
        "parameters": n,
        "trainable_parameters": trainable,
        "flops_per_token": per_token,
        "tokens": int(tokens),
        "computed_tokens": int(computed),
        "widest_row": seq,
        "tokens_per_s": tokens_per_s,
        "seconds": train_seconds + eval_seconds,
        "model_seconds": model_seconds,
        "eval_seconds": eval_seconds,
        "memory_bytes": int(memory),
        "gradient_checkpointing": checkpointing,
        "source": source,
        "measured_runs": from_runs,
    }
    figures["calibration"] = training_estimate_calibrate(
        figures, base_model=config.base_model, method=config.method
    )
    return figures


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
