"""The training worker yields the CPU: the curator's imports, checks and pages share the machine.

Each task of the ``training`` queue calls :func:`training_process_limits_apply` before it loads a
model. It lowers the process's priority to ``FINETUNEDB_TRAINING_NICE`` (an increment, applied
once: niceness can only go up for an unprivileged process, and children such as ``torchrun``'s
inherit it) and bounds torch to ``FINETUNEDB_TRAINING_THREADS`` threads, in this process and, through
``OMP_NUM_THREADS`` / ``MKL_NUM_THREADS``, in the processes it starts. ``training/recipe/`` stays
free of Django: it is told nothing and simply runs with what the process was given.
"""

from __future__ import annotations

import logging
import os

from django.conf import settings

logger = logging.getLogger(__name__)

THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS")


def training_process_limits_apply() -> dict:
    """Apply the niceness and thread bound to this process; what it now runs with:
    ``{"nice": niceness, "threads": torch threads}``."""
    threads = int(settings.FINETUNEDB_TRAINING_THREADS)
    target = int(settings.FINETUNEDB_TRAINING_NICE)
    nice = os.nice(0)
    if nice < target:
        try:
            nice = os.nice(target - nice)
        except OSError as exc:  # a sandbox that forbids it: run as before, and say so
            logger.warning("could not lower the training process's priority: %s", exc)
    for name in THREAD_VARIABLES:
        os.environ[name] = str(threads)
    import torch

    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
    return {"nice": nice, "threads": torch.get_num_threads()}
