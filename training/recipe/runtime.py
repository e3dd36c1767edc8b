"""Where the recipe runs: seeding, memory readings and the torchrun process group."""

from __future__ import annotations

import os
import random

import numpy as np
import torch
import torch.distributed as dist


def seed_everything(seed: int) -> None:
    """Seed Python's, NumPy's and torch's generators (all devices) with ``seed``."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


PROC_STATUS = "/proc/self/status"
PROC_CLEAR_REFS = "/proc/self/clear_refs"


def memory_peak_reset(device: torch.device) -> None:
    """Start the peak-memory reading afresh, so it is this run's and not the worker process's:
    a Celery worker trains, evaluates and answers the playground in one long-lived process, and
    its lifetime peak would be reported for every later run."""
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
        return
    try:
        with open(PROC_CLEAR_REFS, "w") as refs:
            refs.write("5")  # Linux: reset the resident-set high-water mark (VmHWM)
    except OSError:
        pass  # elsewhere the lifetime peak (ru_maxrss) is what there is


def memory_mb(device: torch.device) -> float:
    """Peak memory since :func:`memory_peak_reset`: CUDA allocations on a GPU, the process's
    peak RSS on CPU (VmHWM on Linux, else ``ru_maxrss``)."""
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20
    try:
        with open(PROC_STATUS) as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class ProcessGroup:
    """This process's place among the ``torchrun`` processes (a group of one without torchrun)."""

    def __init__(self, device: str | None = None):
        self.distributed = int(os.environ.get("WORLD_SIZE", "1")) > 1
        if self.distributed and not dist.is_initialized():
            dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
        self.rank = dist.get_rank() if self.distributed else 0
        self.world_size = dist.get_world_size() if self.distributed else 1
        if device is None:
            cuda = torch.cuda.is_available()
            device = f"cuda:{os.environ.get('LOCAL_RANK', '0')}" if cuda else "cpu"
        self.device = torch.device(device)
        if self.device.type == "cuda":
            torch.cuda.set_device(self.device)

    def all_reduce(self, value: float) -> float:
        """The sum of ``value`` over all processes."""
        if not self.distributed:
            return value
        t = torch.tensor([value], dtype=torch.float64, device=self.device)
        dist.all_reduce(t)
        return float(t.item())

    def barrier(self) -> None:
        """Wait until every process reaches this point (nothing to wait for alone)."""
        if self.distributed:
            dist.barrier()

    def wrap(self, model):
        """The model DDP-wrapped when there are several processes, else the model itself."""
        if not self.distributed:
            return model
        ids = [self.device.index] if self.device.type == "cuda" else None
        return torch.nn.parallel.DistributedDataParallel(model, device_ids=ids)
