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


def memory_mb(device: torch.device) -> float:
    """Peak memory: CUDA allocations on a GPU, the process's max RSS on CPU."""
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20
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
