"""Peak-memory readings are the run's own: a long-lived worker process that trained or evaluated
before must not report its earlier peak for the next run."""

import os
import subprocess
import sys
import textwrap

import pytest

from training.recipe.runtime import PROC_CLEAR_REFS

# In a fresh interpreter: the suite's own process holds gigabytes of freed-but-resident heap that
# a new allocation may reuse, which would hide the new peak this test looks for.
PROBE = textwrap.dedent(
    """
    import gc
    import numpy as np
    import torch
    from training.recipe.runtime import memory_mb, memory_peak_reset

    CPU = torch.device("cpu")
    block = np.ones(400 * 2**20 // 8)  # 400 MiB written, so resident
    during = memory_mb(CPU)
    del block
    gc.collect()
    memory_peak_reset(CPU)
    after = memory_mb(CPU)
    assert after < during - 300, (during, after)
    again = np.ones(200 * 2**20 // 8)
    assert memory_mb(CPU) >= after + 150, (after, memory_mb(CPU))
    del again
    print("ok")
    """
)


@pytest.mark.skipif(not os.access(PROC_CLEAR_REFS, os.W_OK), reason="needs Linux /proc")
def test_it_reads_the_peak_since_the_reset_not_the_process_lifetime():
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "ok"
