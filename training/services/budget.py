"""The training worker's budget: how much memory and time a run may take, and the refusal.

A launch runs the pre-flight and is refused (400 ``preflight_over_budget``) when its estimate of
peak memory or of time exceeds the limit; the worker checks again when it starts the run (an admin
may have lowered a limit, or the model was not on the web server yet), and a run refused there
ends FAILED with the same message. The estimate is a guide; this refusal is the hard gate.

Limits: ``FINETUNEDB_TRAINING_MAX_SECONDS`` (default 24 h) and
``FINETUNEDB_TRAINING_MAX_MEMORY_BYTES``; unset, memory is derived on the machine that checks —
90 % of the GPU's memory when the run trains on CUDA (the rest is the CUDA context and the
allocator's fragmentation), else half the RAM, or of the cgroup's limit when lower: on CPU the
estimate reads within 5 % of the measured peak at batch 2 but 0.54× of it at batch 8
(docs/benchmarks.md), and the rest of the RAM holds the operating system and the web processes.
"""

from __future__ import annotations

import os
from pathlib import Path

from django.conf import settings

from finetunedb.exceptions import ApplicationError

GPU_SHARE = 0.9
RAM_SHARE = 0.5  # see the module docstring: covers the CPU estimate's under-read
# Device memory by name, for a web server that does not see the worker's GPU.
GPU_MEMORY = {
    "H200": 141e9,
    "H100": 80e9,
    "A100-SXM4-40GB": 40e9,
    "A100-PCIE-40GB": 40e9,
    "A100": 80e9,
    "L40": 48e9,
    "L4": 24e9,
}
CGROUP_LIMITS = (
    Path("/sys/fs/cgroup/memory.max"),
    Path("/sys/fs/cgroup/memory/memory.limit_in_bytes"),
)

OVER_BUDGET = "This run does not fit the training worker: {reasons}"
OVER_MEMORY = (
    "the pre-flight estimates {estimate} of peak memory on {device}, over the limit of {limit} "
    "({source}); lower batch_size or max_seq_len, turn gradient_checkpointing on, or use LoRA"
)
OVER_TIME = (
    "the pre-flight estimates {estimate} of training on {device}, over the limit of {limit} "
    "(FINETUNEDB_TRAINING_MAX_SECONDS); lower epochs or max_steps, or train on fewer examples"
)
MEMORY_FIELDS = ("batch_size", "max_seq_len")
TIME_FIELDS = ("epochs", "max_steps")


class TrainingOverBudget(ApplicationError):
    """The pre-flight's estimate exceeds the worker's memory or time budget (400)."""

    default_code = "preflight_over_budget"


def _ram_bytes() -> int:
    ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    for path in CGROUP_LIMITS:
        try:
            text = path.read_text().strip()
        except OSError:
            continue
        if text.isdigit():
            ram = min(ram, int(text))
    return ram


def memory_limit(kind: str, name: str) -> tuple[int | None, str]:
    """(bytes, where the figure comes from) for a run on ``kind`` (cpu/cuda) named ``name``.

    None when it cannot be known here (a GPU this machine does not see, of no known name): the
    worker, which sees it, checks at run start."""
    configured = settings.FINETUNEDB_TRAINING_MAX_MEMORY_BYTES
    if configured:
        return int(configured), "FINETUNEDB_TRAINING_MAX_MEMORY_BYTES"
    if kind == "cuda":
        import torch

        if torch.cuda.is_available():
            total = torch.cuda.get_device_properties(0).total_memory
            return int(total * GPU_SHARE), f"{GPU_SHARE:.0%} of the {name}'s memory"
        known = next((v for k, v in GPU_MEMORY.items() if k in name), None)
        if known is None:
            return None, "unknown GPU"
        return int(known * GPU_SHARE), f"{GPU_SHARE:.0%} of a {name}'s memory"
    return int(_ram_bytes() * RAM_SHARE), f"{RAM_SHARE:.0%} of the worker's RAM"


def _bytes(n: float) -> str:
    return f"{n / 1e9:,.1f} GB"


def _seconds(s: float) -> str:
    return f"{s:,.0f} s ({s / 3600:,.1f} h)"


def training_budget(estimate: dict) -> dict:
    """The limits for this estimate and what exceeds them: ``{"memory_limit_bytes",
    "memory_limit_source", "seconds_limit", "over": [...], "reasons": [...]}``."""
    limit, source = memory_limit(estimate["device"], estimate["device_name"])
    seconds_limit = int(settings.FINETUNEDB_TRAINING_MAX_SECONDS)
    device = estimate["device_name"]
    over, reasons = [], []
    if limit is not None and estimate["memory_bytes"] > limit:
        over.append("memory")
        reasons.append(
            OVER_MEMORY.format(
                estimate=_bytes(estimate["memory_bytes"]),
                device=device,
                limit=_bytes(limit),
                source=source,
            )
        )
    # A run whose time cannot be estimated (no throughput) is over no limit it can be held to.
    if estimate["seconds"] is not None and estimate["seconds"] > seconds_limit:
        over.append("time")
        reasons.append(
            OVER_TIME.format(
                estimate=_seconds(estimate["seconds"]), device=device, limit=_seconds(seconds_limit)
            )
        )
    return {
        "memory_limit_bytes": limit,
        "memory_limit_source": source,
        "seconds_limit": seconds_limit,
        "over": over,
        "reasons": reasons,
    }


def training_budget_require(estimate: dict) -> None:
    """Raise :class:`TrainingOverBudget` naming the estimate and the limit when a figure is over."""
    budget = training_budget(estimate)
    if not budget["over"]:
        return
    errors = []
    for what, reason in zip(budget["over"], budget["reasons"], strict=True):
        for field in MEMORY_FIELDS if what == "memory" else TIME_FIELDS:
            errors.append({"path": f"hyperparameters.{field}", "message": reason})
    raise TrainingOverBudget(
        OVER_BUDGET.format(reasons="; ".join(budget["reasons"])),
        errors=errors,
        extra={
            "estimate": {
                "memory_bytes": estimate["memory_bytes"],
                "seconds": estimate["seconds"],
                "device": estimate["device"],
                "device_name": estimate["device_name"],
            },
            "limit": {
                "memory_bytes": budget["memory_limit_bytes"],
                "memory_source": budget["memory_limit_source"],
                "seconds": budget["seconds_limit"],
            },
            "over": budget["over"],
        },
    )
