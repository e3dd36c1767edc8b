"""The training configuration: one frozen dataclass, every field documented and bounded.

The app builds it from a form or an API payload with :meth:`TrainConfig.from_dict`, which rejects
unknown keys and out-of-bounds values with a message naming the field and its allowed range, and
stores :meth:`TrainConfig.to_dict` on the run. Help text lives in each field's metadata so the form
and the API schema can show it (``TrainConfig.help_texts()``).
"""

from __future__ import annotations

import math
from dataclasses import MISSING, asdict, dataclass, field, fields
from typing import Any

BUNDLED_BASE_MODEL = "bundled:SmolLM2-135M-Instruct"

METHODS = ("lora", "full", "dpo", "orpo")
PREFERENCE_METHODS = ("dpo", "orpo")
PREFERENCE_WEIGHTS = ("lora", "full")
DPO_LOSS_TYPES = ("sigmoid", "ipo")
LR_SCHEDULERS = ("cosine", "linear", "constant")
OVERLENGTH_POLICIES = ("drop", "truncate", "error")
CHECKPOINTING = ("auto", "on", "off")
DEFAULT_TARGET_MODULES = ("q_proj", "k_proj", "v_proj", "o_proj")

ERR_NOT_A_MAPPING = "training config must be a JSON object"
ERR_UNKNOWN_KEYS = "unknown config field(s): {keys}"
ERR_TYPE = "{name}: expected {kind}, got {value!r}"
ERR_RANGE = "{name}: {value!r} is out of range, allowed {low}–{high}"
ERR_OPEN_RANGE = "{name}: {value!r} is out of range, allowed ({low}, {high}]"
ERR_CHOICE = "{name}: {value!r} is not one of {choices}"
ERR_MODULES = "lora_target_modules: give 1–32 module names such as 'q_proj'"
ERR_BASE_MODEL = "base_model: give a local folder, a hub id or the bundled default"
ERR_MERGE_FULL = (
    "merge_weights: full fine-tuning already saves plain weights; merging applies to LoRA only"
)
ERR_SMOOTHING_IPO = (
    "dpo_label_smoothing: applies to dpo_loss_type sigmoid only; set it to 0 for ipo"
)


class ConfigError(ValueError):
    """A config value is unknown, of the wrong type or out of bounds; the message names the field."""


def _f(default: Any, help: str, **bounds: Any) -> Any:
    """A dataclass field whose metadata carries its help text and bounds."""
    meta = {"help": help, **bounds}
    if isinstance(default, list | tuple):
        return field(default_factory=lambda: tuple(default), metadata=meta)
    return field(default=default, metadata=meta)


@dataclass(frozen=True)
class TrainConfig:
    """Every setting of one training run; each field's help text and bounds sit in its metadata.

    Frozen, so a run's config cannot change under it. Build one with :meth:`from_dict`, which
    rejects unknown keys and out-of-bounds values with a message naming the field.
    """

    # --- model -------------------------------------------------------------------------------
    base_model: str = _f(
        BUNDLED_BASE_MODEL,
        "Base model: the bundled default, a local Hugging Face folder, or a hub id (needs network).",
    )
    method: str = _f(
        "lora",
        "lora trains a small adapter on a frozen base; full trains every weight; dpo and orpo "
        "train on preference pairs (chosen and rejected answers), with the weights "
        "preference_weights names.",
        choices=METHODS,
    )
    # --- preference methods (dpo, orpo) ------------------------------------------------------
    preference_weights: str = _f(
        "lora",
        "dpo/orpo: lora trains an adapter (DPO's reference is the base with the adapter "
        "switched off, no second copy in memory); full trains every weight (DPO keeps a frozen "
        "copy of the base as the reference).",
        choices=PREFERENCE_WEIGHTS,
    )
    # Past 5 the implicit KL penalty pins the policy to the reference: nothing is learned.
    dpo_beta: float = _f(
        0.1,
        "DPO beta: how strongly the policy is held near the reference (higher: closer).",
        low=0.0,
        high=5.0,
        open_low=True,
    )
    dpo_label_smoothing: float = _f(
        0.0,
        "DPO (sigmoid): assumed share of pairs whose labels are flipped (conservative DPO); 0 "
        "trusts every pick. Below 0.5, or chosen and rejected swap roles.",
        low=0.0,
        high=0.49,
    )
    dpo_loss_type: str = _f(
        "sigmoid",
        "DPO loss: sigmoid (the DPO paper) or ipo (squared loss on per-token mean log-ratios, "
        "Azar et al. 2023).",
        choices=DPO_LOSS_TYPES,
    )
    orpo_beta: float = _f(
        0.1,
        "ORPO lambda: weight of the odds-ratio term added to the chosen answers' SFT loss.",
        low=0.0,
        high=10.0,
        open_low=True,
    )
    # Rank 128 on the four attention projections already trains ~2 % of a 7B model; past it a
    # full fine-tune is the better tool, and the adapter's AdamW state grows linearly with r.
    lora_r: int = _f(
        16,
        "LoRA rank: the adapter's inner dimension. Larger learns more, costs more.",
        low=1,
        high=128,
    )
    lora_alpha: int = _f(
        32, "LoRA scaling numerator (the update is scaled by alpha / r).", low=1, high=1024
    )
    lora_dropout: float = _f(
        0.05, "Dropout on the adapter input during training.", low=0.0, high=0.5
    )
    lora_target_modules: tuple[str, ...] = _f(
        DEFAULT_TARGET_MODULES,
        "Names of the linear layers that get an adapter (attention projections by default).",
    )
    # --- how long ----------------------------------------------------------------------------
    # Fine-tuning converges in 1–5 passes; past 20 a model only memorises its training split.
    epochs: int = _f(3, "Passes over the training split.", low=1, high=20)
    # 100 000 steps is more than a day at any step time this machine class reaches; the time
    # budget (FINETUNEDB_TRAINING_MAX_SECONDS) is the real gate.
    max_steps: int = _f(
        0, "Stop after this many optimizer steps; 0 means run all epochs.", low=0, high=100_000
    )
    # --- optimisation ------------------------------------------------------------------------
    learning_rate: float = _f(
        2e-4, "Peak learning rate of AdamW.", low=0.0, high=1.0, open_low=True
    )
    lr_scheduler: str = _f(
        "cosine", "How the learning rate decays after warm-up.", choices=LR_SCHEDULERS
    )
    warmup_ratio: float = _f(
        0.03,
        "Share of the total steps spent warming up (ignored if warmup_steps > 0).",
        low=0.0,
        high=0.5,
    )
    # As many as max_steps can be: a longer warm-up never ends.
    warmup_steps: int = _f(
        0, "Warm-up steps; overrides warmup_ratio when > 0.", low=0, high=100_000
    )
    weight_decay: float = _f(0.0, "AdamW decoupled weight decay.", low=0.0, high=1.0)
    max_grad_norm: float = _f(
        1.0, "Clip the gradient norm to this value; 0 disables clipping.", low=0.0, high=1000.0
    )
    # One micro-batch is held in device memory at once: 256 rows × 4 096 tokens of a 7B model's
    # activations already exceed an 80 GB GPU; the memory budget decides below this.
    batch_size: int = _f(
        8, "Sequences per micro-batch (per process under torchrun).", low=1, high=256
    )
    # 256 × 256 = 65 536 sequences per optimizer step, past any batch size fine-tuning uses.
    gradient_accumulation_steps: int = _f(
        1, "Micro-batches summed into one optimizer step.", low=1, high=256
    )
    gradient_checkpointing: str = _f(
        "auto",
        "Recompute each layer's activations in the backward pass instead of keeping them: much "
        "less memory for about a third more compute. auto: on for CPU (host memory, fp32), off "
        "on GPU.",
        choices=CHECKPOINTING,
    )
    # --- data ---------------------------------------------------------------------------------
    # The context most open models are trained for; a packed row's attention mask is T² (6 bytes
    # per entry measured on CPU: 6.4 GB per row at 32 768), so longer rows do not fit a worker.
    max_seq_len: int = _f(
        1024, "Longest sequence in tokens, template included.", low=16, high=32768
    )
    packing: bool = _f(
        True, "Pack several examples into one sequence (attention never crosses them)."
    )
    overlength: str = _f(
        "drop",
        "Examples longer than max_seq_len: drop (reported), truncate (reported) or error.",
        choices=OVERLENGTH_POLICIES,
    )
    # --- bookkeeping --------------------------------------------------------------------------
    seed: int = _f(
        42, "Seeds data order, adapter initialisation and dropout.", low=0, high=2**31 - 1
    )
    # Intervals past max_steps' bound mean "never": the same as 0.
    eval_interval: int = _f(
        50,
        "Evaluate on the validation split every N steps (and at the end); 0 only at the end.",
        low=0,
        high=100_000,
    )
    checkpoint_interval: int = _f(
        100, "Write a resumable checkpoint every N steps; 0 disables.", low=0, high=100_000
    )
    log_interval: int = _f(1, "Report step metrics every N steps.", low=1, high=10_000)
    # Every evaluation runs over these records; the pre-flight counts them in the time estimate.
    eval_max_records: int = _f(
        200, "At most this many validation records are evaluated.", low=1, high=10_000
    )
    merge_weights: bool = _f(
        False,
        "Also save the base model with the adapter merged in: a plain model folder (as large as "
        "the base) that loads without peft. LoRA only.",
    )

    @classmethod
    def from_dict(cls, data: Any) -> TrainConfig:
        """Build a config from plain data, raising :class:`ConfigError` on any bad key or value."""
        if not isinstance(data, dict):
            raise ConfigError(ERR_NOT_A_MAPPING)
        known = {f.name: f for f in fields(cls)}
        unknown = sorted(set(data) - set(known))
        if unknown:
            raise ConfigError(ERR_UNKNOWN_KEYS.format(keys=", ".join(unknown)))
        values = {name: _check(known[name], value) for name, value in data.items()}
        config = cls(**values)
        if config.merge_weights and not config.uses_adapter:
            raise ConfigError(ERR_MERGE_FULL)
        if config.dpo_label_smoothing and config.dpo_loss_type == "ipo":
            raise ConfigError(ERR_SMOOTHING_IPO)
        return config

    @property
    def uses_adapter(self) -> bool:
        """True when the run trains a LoRA adapter (lora, or dpo/orpo on lora weights)."""
        return self.method == "lora" or (
            self.method in PREFERENCE_METHODS and self.preference_weights == "lora"
        )

    @property
    def is_preference(self) -> bool:
        """True for dpo and orpo, which train on chosen/rejected pairs."""
        return self.method in PREFERENCE_METHODS

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data; ``from_dict(to_dict())`` gives an equal config."""
        d = asdict(self)
        d["lora_target_modules"] = list(self.lora_target_modules)
        return d

    @classmethod
    def help_texts(cls) -> dict[str, str]:
        """Field name → help text, for forms and the API schema."""
        return {f.name: f.metadata["help"] for f in fields(cls)}

    @classmethod
    def defaults(cls) -> dict[str, Any]:
        """Every field at its default value, as plain JSON-ready data."""
        return cls().to_dict()


def _check(f: Any, value: Any) -> Any:
    name, meta = f.name, f.metadata
    default = f.default if f.default is not MISSING else f.default_factory()
    if name == "lora_target_modules":
        return _check_modules(value)
    if name == "base_model":
        if not isinstance(value, str) or not value.strip() or len(value) > 500:
            raise ConfigError(ERR_BASE_MODEL)
        return value.strip()
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise ConfigError(ERR_TYPE.format(name=name, kind="true or false", value=value))
        return value
    if isinstance(default, int):
        # bool is an int in Python; a checkbox sent to a number field is a client bug, not 1
        if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
            raise ConfigError(ERR_TYPE.format(name=name, kind="an integer", value=value))
        value = int(value)
    elif isinstance(default, float):
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            raise ConfigError(ERR_TYPE.format(name=name, kind="a number", value=value))
        value = float(value)
    elif isinstance(default, str) and not isinstance(value, str):
        raise ConfigError(ERR_TYPE.format(name=name, kind="a string", value=value))
    if "choices" in meta and value not in meta["choices"]:
        raise ConfigError(
            ERR_CHOICE.format(name=name, value=value, choices=", ".join(meta["choices"]))
        )
    if "low" in meta:
        low, high = meta["low"], meta["high"]
        if meta.get("open_low"):
            if not (low < value <= high):
                raise ConfigError(ERR_OPEN_RANGE.format(name=name, value=value, low=low, high=high))
        elif not (low <= value <= high):
            raise ConfigError(ERR_RANGE.format(name=name, value=value, low=low, high=high))
    return value


def _check_modules(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [part.strip() for part in value.split(",") if part.strip()]
    if not isinstance(value, list | tuple) or not 1 <= len(value) <= 32:
        raise ConfigError(ERR_MODULES)
    if not all(isinstance(v, str) and v.replace("_", "").replace(".", "").isalnum() for v in value):
        raise ConfigError(ERR_MODULES)
    return tuple(value)
