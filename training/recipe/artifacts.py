"""The trained model folder: weights in safetensors, their sha256, and everything to reproduce them.

Layout of ``<out>/model`` (written atomically, ``COMPLETE`` inside when whole)::

    weights/            adapter_model.safetensors + adapter_config.json (LoRA) or model.safetensors
                        + config.json (full), and the tokenizer with its chat template
    merged/             optional: base + adapter merged into plain weights (LoRA only)
    model.gguf          with merged/: the merged weights as an F16 GGUF for llama.cpp / Ollama
                        (recipe.gguf_export; Llama architecture only, absent otherwise)
    Modelfile           for Ollama: FROM the base + ADAPTER weights (or FROM merged), the chat
                        TEMPLATE and stop strings translated from the tokenizer (recipe.modelfile)
    manifest.json       sha256 of every file, config, metrics, library versions, seed, device, lineage
    README.md           the model card
"""

from __future__ import annotations

import copy
import hashlib
import json
import platform
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .atomic import atomic_directory
from .gguf_export import GGUFUnsupported, write_gguf
from .modelfile import modelfile_for

WEIGHT_FILES = ("adapter_model.safetensors", "model.safetensors")

CARD = """# {title}

Fine-tuned with FinetuneDB's built-in recipe ({method}) from **{base_model}**.

| | |
|---|---|
| dataset | {dataset} |
| dataset version | {version} |
| dataset version hash | `{version_hash}` |
| weights sha256 | `{weights_sha256}` |
| seed | {seed} |
| device | {device} (× {world_size}) |
| steps | {steps} |
| training tokens / step (last) | {trained_tokens} |
| final train loss | {train_loss} |
| final eval loss / token accuracy | {eval_loss} / {eval_accuracy} |
| libraries | torch {torch}, transformers {transformers}, peft {peft} |
| created | {created} |

## Training configuration

```json
{config}
```

## Intended use and limits

This model was trained on the examples of the dataset version above only; it inherits the
licence, the biases and the limits of its base model and of that data.
"""


def sha256_file(path: Path) -> str:
    """Hex sha256 of the file at ``path``, read in 1 MiB chunks (the manifest's digest)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def library_versions() -> dict[str, str]:
    """Versions of Python and the ML libraries this run used, recorded in the manifest."""
    import peft
    import safetensors
    import torch
    import transformers

    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "peft": peft.__version__,
        "safetensors": safetensors.__version__,
    }


def _fmt(value: Any) -> str:
    return f"{value:.4f}" if isinstance(value, float) else "–" if value is None else str(value)


def save_model(
    final: Path,
    *,
    model,
    tokenizer,
    config,
    base_path: str,
    history: list[dict],
    evals: list[dict],
    plan: dict,
    device: str,
    world_size: int,
    lineage: dict[str, Any],
    merged: bool = False,
) -> dict[str, Any]:
    """Write the model folder atomically and return its manifest (also saved as manifest.json).

    ``lineage`` is passed through to the manifest and the card; the app gives
    ``dataset_version_id``, ``dataset_version_hash`` and whatever else identifies the data.
    """
    with atomic_directory(Path(final)) as tmp:
        weights = tmp / "weights"
        model.save_pretrained(weights, safe_serialization=True)
        tokenizer.save_pretrained(weights)
        if merged and config.uses_adapter:
            plain = copy.deepcopy(model).merge_and_unload()
            plain.save_pretrained(tmp / "merged", safe_serialization=True)
            tokenizer.save_pretrained(tmp / "merged")
            try:
                write_gguf(plain, tokenizer, tmp / "model.gguf", name=config.base_model)
            except GGUFUnsupported:
                pass  # not a Llama: the Modelfile then points at ./merged
        (tmp / "Modelfile").write_text(
            modelfile_for(
                tokenizer,
                config,
                merged=(tmp / "merged").is_dir(),
                gguf=(tmp / "model.gguf").is_file(),
            )
        )
        weight_file = next(weights / name for name in WEIGHT_FILES if (weights / name).exists())
        files = {
            str(p.relative_to(tmp)): sha256_file(p) for p in sorted(tmp.rglob("*")) if p.is_file()
        }
        last = history[-1] if history else {}
        manifest = {
            "format": 1,
            "method": config.method,
            "adapter": config.uses_adapter,
            "base_model": config.base_model,
            "base_path": base_path,
            "weights_file": str(weight_file.relative_to(tmp)),
            "weights_sha256": files[str(weight_file.relative_to(tmp))],
            "files": files,
            "config": config.to_dict(),
            "seed": config.seed,
            "device": device,
            "world_size": world_size,
            "libraries": library_versions(),
            "lineage": lineage,
            "plan": {k: v for k, v in plan.items() if k not in ("dropped", "truncated")},
            "dropped": plan.get("dropped", []),
            "truncated": plan.get("truncated", []),
            "metrics": {
                "steps": last.get("step", 0),
                "final": last,
                "evals": evals,
                "history": history,
            },
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2))
        (tmp / "README.md").write_text(model_card(manifest))
    return manifest


def _cell(value: Any) -> str:
    """A value inside a markdown table cell: one line, pipes escaped."""
    if value in (None, ""):
        return "–"
    return " ".join(str(value).split()).replace("|", "\\|")


def version_label(lineage: dict[str, Any]) -> str:
    """``v1 (name)``: the number people see for a version, never its database id.

    >>> version_label({"dataset_version_number": 1, "dataset_version_name": "first cut"})
    'v1 (first cut)'
    """
    number = lineage.get("dataset_version_number")
    if number is None:
        return "–"
    name = lineage.get("dataset_version_name")
    return f"v{number} ({_cell(name)})" if name and name != f"v{number}" else f"v{number}"


def model_card(manifest: dict[str, Any]) -> str:
    """The markdown model card for a manifest."""
    lineage, final = manifest["lineage"], manifest["metrics"]["final"]
    evals = manifest["metrics"]["evals"]
    last_eval = evals[-1] if evals else {}
    libs = manifest["libraries"]
    return CARD.format(
        title=lineage.get("name") or "Fine-tuned model",
        method=manifest["method"],
        base_model=manifest["base_model"],
        dataset=_cell(lineage.get("dataset_name")),
        version=version_label(lineage),
        version_hash=_fmt(lineage.get("dataset_version_hash")),
        weights_sha256=manifest["weights_sha256"],
        seed=manifest["seed"],
        device=manifest["device"],
        world_size=manifest["world_size"],
        steps=manifest["metrics"]["steps"],
        trained_tokens=_fmt(final.get("trained_tokens")),
        train_loss=_fmt(final.get("loss")),
        eval_loss=_fmt(last_eval.get("eval_loss")),
        eval_accuracy=_fmt(last_eval.get("eval_token_accuracy")),
        torch=libs["torch"],
        transformers=libs["transformers"],
        peft=libs["peft"],
        created=manifest["created"],
        config=json.dumps(manifest["config"], indent=2),
    )


def read_manifest(model_dir: Path) -> dict[str, Any]:
    """The ``manifest.json`` of a saved model folder, as a dict (files, config, lineage, …)."""
    return json.loads((Path(model_dir) / "manifest.json").read_text())


def verify(model_dir: Path) -> bool:
    """True when every file listed in the manifest still has its recorded sha256."""
    manifest = read_manifest(model_dir)
    return all(
        sha256_file(Path(model_dir) / name) == digest for name, digest in manifest["files"].items()
    )
