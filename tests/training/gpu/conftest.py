"""GPU-only tests: each skips itself, with its reason in ``pytest -rs``, where CUDA is absent.

The tiny-model fixtures come from tests/training (tiny_model_dir, records, training_settings).
"""

from __future__ import annotations

import pytest
import torch

from tests.training.conftest import records, tiny_model_dir, tokenizer  # noqa: F401

NO_CUDA = "needs a CUDA GPU (torch.cuda.is_available() is False here)"
requires_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason=NO_CUDA)
requires_two_gpus = pytest.mark.skipif(
    torch.cuda.device_count() < 2,
    reason=f"needs two CUDA GPUs ({torch.cuda.device_count()} visible)",
)
