"""Pre-flight of a DPO or ORPO run: pairs, tokens of both sides, dropped pairs, time and memory.

The pairs are encoded exactly as the run encodes them (:func:`training.recipe.preference.
encode_pairs`: the base model's chat template, the over-length policy applied to the longer
side), so counts and the dropped list are exact. The estimate is the SFT estimate
(:func:`.preflight.estimate`) of the same work — every batch of ``batch_size`` pairs is one
padded batch of ``2 × batch_size`` rows, chosen and rejected — plus what preference training
adds:

* **DPO's reference pass**: one more forward without gradients over the same rows, ``2N +
  4·L·d·T`` FLOPs per token on top of the policy's forward and backward. With LoRA it runs
  through the same model with the adapter disabled (no second copy: no memory); full weights
  keep a frozen copy of the base (its weights counted again). Evaluations score the reference
  too. ORPO has no reference.
* **Logits**: the pair loss takes each side's summed log-probabilities from the full logits
  (no chunked head), so batch × T × vocab is counted whole.

``reference_pass`` in the result says which applies and by how much the time grew.
"""

from __future__ import annotations

from dataclasses import replace

from finetunedb.exceptions import ApplicationError
from training.recipe.data import TemplateError
from training.recipe.losses import CHUNK_TOKENS, PLAIN_HEAD
from training.recipe.preference import encode_pairs
from training.recipe.preference_loop import pair_plan

from .budget import training_budget
from .calibration import training_estimate_calibrate
from .preflight import LISTED, _model_shape, _parameters, estimate

REFERENCE_ADAPTER = "adapter_disabled"
REFERENCE_COPY = "frozen_copy"
REFERENCE_NONE = "none"


def pair_report(config, path: str, records, validation: int, *, tokenizer, here: bool) -> dict:
    """The pre-flight of a preference ``config`` over ``records`` (each with ``rejected``);
    ``validation`` is how many validation pairs each evaluation scores."""
    policy = "drop" if config.overlength == "error" else config.overlength
    try:
        pairs = encode_pairs(records, tokenizer, max_seq_len=config.max_seq_len, overlength=policy)
    except TemplateError as exc:
        raise ApplicationError(
            str(exc), errors=[{"path": "base_model", "message": str(exc)}]
        ) from exc
    except ValueError as exc:  # a record without a rejected answer
        raise ApplicationError(str(exc), errors=[{"path": "method", "message": str(exc)}]) from exc
    figures = pair_plan(pairs, config)
    for listing in (figures["dropped"], figures["truncated"]):
        for item in listing:
            item.pop("index", None)
    too_long = [d for d in figures["dropped"] if d["reason"] == "too_long"]
    # One row per side: a batch of B pairs is a padded batch of 2B rows (collate_pairs).
    rows = [[side] for p in pairs.pairs for side in (p.chosen, p.rejected)]
    sft_like = replace(
        config,
        method="lora" if config.uses_adapter else "full",
        batch_size=2 * config.batch_size,
        packing=False,
    )
    mean_tokens = figures["tokens"] / len(pairs.pairs) if pairs.pairs else 0
    figures_estimate = estimate(
        figures,
        sft_like,
        path,
        rows=rows,
        validation_tokens=int(min(validation, config.eval_max_records) * mean_tokens),
        here=here,
    )
    reference = _add_preference_costs(figures_estimate, config, path, rows)
    figures_estimate["calibration"] = training_estimate_calibrate(
        figures_estimate, base_model=config.base_model, method=config.method
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
        "reference_pass": reference,
        "estimate": figures_estimate,
        "budget": training_budget(figures_estimate),
    }


def _add_preference_costs(figures: dict, config, path: str, rows) -> dict:
    """Add the reference pass and the whole logits to the SFT ``figures`` (in place)."""
    shape, n = _model_shape(path), _parameters(path)
    seq = figures["widest_row"]
    policy_per_token = figures["flops_per_token"]
    if config.method == "dpo":
        kind = REFERENCE_ADAPTER if config.uses_adapter else REFERENCE_COPY
        reference_per_token = 2 * n + 4 * shape["layers"] * shape["d"] * seq
    else:
        kind, reference_per_token = REFERENCE_NONE, 0
    factor = (policy_per_token + reference_per_token) / policy_per_token
    train_seconds = (figures["seconds"] - figures["eval_seconds"]) * factor
    eval_seconds = figures["eval_seconds"] * (2 if reference_per_token else 1)
    old_seconds = figures["seconds"]
    figures["seconds"] = train_seconds + eval_seconds
    if old_seconds:
        figures["model_seconds"] *= figures["seconds"] / old_seconds
    figures["eval_seconds"] = eval_seconds
    figures["flops_per_token"] = policy_per_token + reference_per_token
    figures["tokens_per_s"] /= factor
    weight_bytes = 4 if figures["device"] == "cpu" else 2
    extra = n * weight_bytes if kind == REFERENCE_COPY else 0
    row_tokens = min(2 * config.batch_size, len(rows)) * seq
    if shape["model_type"] in PLAIN_HEAD and row_tokens > CHUNK_TOKENS:
        extra += (row_tokens - CHUNK_TOKENS) * shape["vocab"] * (16 if weight_bytes == 4 else 8)
    figures["memory_bytes"] = int(figures["memory_bytes"] + extra)
    return {
        "kind": kind,
        "flops_per_token": reference_per_token,
        "time_factor": round(factor, 3),
        "extra_memory_bytes": int(extra),
    }
