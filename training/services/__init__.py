"""Training services: launch and cancel runs (``runs``), execute them in the worker
(``execute``), evaluate and the playground (``evaluation``), pre-flight (``preflight``), budgets,
leases (``jobs``) and lineage. Views and tasks call these; they decide.

The names below are the views' entry points, loaded on first use (PEP 562): ``TrainingConfig.ready``
imports ``services.jobs`` at start-up, and that must not load torch into every web process
(tests/test_web_process_imports.py).
"""

from __future__ import annotations

import importlib
from typing import Any

_HOMES = {
    "model_evaluate": "evaluation",
    "playground_request_create": "evaluation",
    "playground_request_run": "evaluation",
    "training_config_build": "runs",
    "training_preflight": "preflight",
    "training_preview": "preflight",
    "training_run_cancel": "runs",
    "training_run_create": "runs",
    "training_run_execute": "execute",
    "training_runs_recover": "execute",
}

__all__ = sorted(_HOMES)


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value
