"""Resumable checkpoints under ``<out>/checkpoints/step-N``, each written atomically.

A checkpoint holds the trainable weights (the LoRA adapter, or every weight for full fine-tuning)
in safetensors, the optimizer and scheduler states, the RNG states and the trainer state (step,
epoch, position in the epoch's batch order, metric history). Only folders carrying the
``COMPLETE`` marker are ever resumed from; the newest two are kept.
"""

from __future__ import annotations

import json
import random
import re
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from finetunedb import faults

from .atomic import atomic_directory, is_complete

KEEP = 2
_STEP_DIR = re.compile(r"^step-(\d+)$")


def trainable_state(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    """Parameters that receive gradients, by name, detached and contiguous on CPU."""
    return {
        name: p.detach().to("cpu").contiguous()
        for name, p in model.named_parameters()
        if p.requires_grad
    }


def rng_state() -> dict[str, Any]:
    """The Python, NumPy, torch and CUDA random states, so a resumed run draws the same numbers."""
    np_state = np.random.get_state()
    return {
        "python": random.getstate(),
        "numpy": [np_state[0], np_state[1].tolist(), *np_state[2:]],
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
    }


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore what :func:`rng_state` captured (CUDA states only where CUDA is available)."""
    random.setstate(
        tuple(state["python"][:1]) + (tuple(state["python"][1]),) + tuple(state["python"][2:])
    )
    kind, keys, *rest = state["numpy"]
    np.random.set_state((kind, np.array(keys, dtype=np.uint32), *rest))
    torch.set_rng_state(state["torch"])
    if state["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save_checkpoint(
    out_dir: Path, step: int, *, model, optimizer, scheduler, trainer_state: dict
) -> Path:
    """Write ``checkpoints/step-<step>`` atomically and prune older checkpoints."""
    root = Path(out_dir) / "checkpoints"
    final = root / f"step-{step}"
    with atomic_directory(final) as tmp:
        save_file(trainable_state(model), str(tmp / "trainable.safetensors"))
        if faults.PLAN is not None:
            faults.fault_point("train.mid_checkpoint_save")
        torch.save(optimizer.state_dict(), tmp / "optimizer.pt")
        torch.save(scheduler.state_dict(), tmp / "scheduler.pt")
        torch.save(rng_state(), tmp / "rng.pt")
        (tmp / "trainer_state.json").write_text(json.dumps(trainer_state, indent=2))
    for old in complete_checkpoints(out_dir)[:-KEEP]:
        shutil.rmtree(old, ignore_errors=True)
    return final


def complete_checkpoints(out_dir: Path) -> list[Path]:
    """Complete checkpoint folders, oldest first."""
    root = Path(out_dir) / "checkpoints"
    if not root.is_dir():
        return []
    found = []
    for path in root.iterdir():
        match = _STEP_DIR.match(path.name)
        if match and is_complete(path):
            found.append((int(match.group(1)), path))
    return [path for _, path in sorted(found)]


def latest_checkpoint(out_dir: Path) -> Path | None:
    """The newest complete ``checkpoints/step-N`` folder under ``out_dir``, or None."""
    found = complete_checkpoints(out_dir)
    return found[-1] if found else None


def load_checkpoint(path: Path, *, model, optimizer, scheduler) -> dict:
    """Restore weights, optimizer, scheduler and RNG from ``path``; return the trainer state."""
    weights = load_file(str(path / "trainable.safetensors"))
    params = dict(model.named_parameters())
    with torch.no_grad():
        for name, value in weights.items():
            params[name].copy_(value.to(params[name].device, params[name].dtype))
    device = next(model.parameters()).device
    optimizer.load_state_dict(
        torch.load(path / "optimizer.pt", map_location=device, weights_only=True)
    )
    scheduler.load_state_dict(torch.load(path / "scheduler.pt", weights_only=True))
    set_rng_state(torch.load(path / "rng.pt", weights_only=True))
    return json.loads((path / "trainer_state.json").read_text())
