"""Training services: launch and cancel runs, execute them in the worker, evaluate, playground,
pre-flight. Views and tasks call these; they decide."""

from .evaluation import model_evaluate, playground_request_create, playground_request_run
from .execute import training_run_execute, training_runs_recover
from .preflight import training_preflight, training_preview
from .runs import training_config_build, training_run_cancel, training_run_create

__all__ = [
    "model_evaluate",
    "playground_request_create",
    "playground_request_run",
    "training_config_build",
    "training_preflight",
    "training_preview",
    "training_run_cancel",
    "training_run_create",
    "training_run_execute",
    "training_runs_recover",
]
