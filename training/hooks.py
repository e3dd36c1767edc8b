"""What training offers the apps above it, without importing them (docs/architecture.md,
"Layers"): evaluation sits on training, so training reaches it only through what evaluation
registers here in its ``AppConfig.ready`` — the pattern of ``finetunedb.teams.home_panels``.

- **Launch options**: a field a launch may carry besides the configuration (``eval_suites``).
  ``check(*, user, version, value)`` validates it before anything is created (an
  ApplicationError naming the field, nothing stored) and returns what ``save(*, run, checked)``
  records inside the launch's transaction; ``form_field(*, user, version)`` is its field on the
  launch form (or None).
- **On success**: ``callback(*, run_id, model_id)``, called after the transaction that
  published a run's model commits (the worker's process; a callback that raises is logged, the
  run stays succeeded).
- **Model panels**: ``panel(*, user, model) -> dict`` of template context merged into the
  model page's.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class LaunchOption:
    name: str
    check: Callable
    save: Callable
    form_field: Callable | None = None


_LAUNCH_OPTIONS: dict[str, LaunchOption] = {}
_ON_SUCCESS: list[Callable] = []
_MODEL_PANELS: list[Callable] = []


def launch_option_register(option: LaunchOption) -> LaunchOption:
    _LAUNCH_OPTIONS[option.name] = option
    return option


def launch_options() -> dict[str, LaunchOption]:
    return dict(_LAUNCH_OPTIONS)


def run_succeeded_register(callback: Callable) -> Callable:
    if callback not in _ON_SUCCESS:
        _ON_SUCCESS.append(callback)
    return callback


def run_succeeded_notify(*, run_id: int, model_id: int) -> None:
    for callback in _ON_SUCCESS:
        try:
            callback(run_id=run_id, model_id=model_id)
        except Exception:
            logger.exception("after-training hook %s of run %s failed", callback, run_id)


def model_panel_register(panel: Callable) -> Callable:
    if panel not in _MODEL_PANELS:
        _MODEL_PANELS.append(panel)
    return panel


def model_panels_context(*, user, model) -> dict:
    context: dict = {}
    for panel in _MODEL_PANELS:
        context.update(panel(user=user, model=model))
    return context
