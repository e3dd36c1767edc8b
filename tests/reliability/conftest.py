"""Fixtures for the fault scenarios: real workers on a per-test DATA_DIR, an in-process fault plan
that is always switched off again, and the ``production`` marker (tests that need the running
production stack of ``scripts/test.sh production``)."""

from __future__ import annotations

import pytest

# The training scenarios reuse the training app's fixtures: the tiny model, a frozen version.
from tests.training.conftest import (  # noqa: F401
    make_version,
    records,
    tiny_model_dir,
    tokenizer,
    training_settings,
    training_transactional_db,
    version,
)


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "production: runs over HTTP against the production stack (scripts/test.sh production)",
    )


@pytest.fixture
def data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path / "data"
    settings.FILE_UPLOAD_TEMP_DIR = str(settings.DATA_DIR / "tmp")
    (settings.DATA_DIR / "tmp").mkdir(parents=True)
    return settings.DATA_DIR


@pytest.fixture
def workers(data_dir, tmp_path):
    from .processes import Workers

    with Workers(data_dir, tmp_path) as running:
        yield running


@pytest.fixture
def fault_plan():
    """``fault_plan("export.mid_write=disk_full")`` for this process; off after the test."""
    from finetunedb import faults

    yield faults.configure
    faults.configure(None)
