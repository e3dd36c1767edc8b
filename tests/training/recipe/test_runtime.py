"""Peak-memory readings are the run's own: a long-lived worker process that trained or evaluated
before must not report its earlier peak for the next run."""

import gc
import os

import numpy as np
import pytest
import torch

from training.recipe.runtime import PROC_CLEAR_REFS, memory_mb, memory_peak_reset

CPU = torch.device("cpu")


@pytest.mark.skipif(not os.access(PROC_CLEAR_REFS, os.W_OK), reason="needs Linux /proc")
def test_it_reads_the_peak_since_the_reset_not_the_process_lifetime():
    block = np.ones(400 * 2**20 // 8)  # 400 MiB written, so resident
    during = memory_mb(CPU)
    del block
    gc.collect()
    memory_peak_reset(CPU)
    after = memory_mb(CPU)
    assert after < during - 300, (during, after)
    again = np.ones(200 * 2**20 // 8)
    assert memory_mb(CPU) >= after + 150
    del again
