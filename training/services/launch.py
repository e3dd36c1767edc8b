"""A launch with its options: the configuration (``training_run_create``) plus what the apps
above registered as launch options (``training.hooks``: ``eval_suites`` from evaluation), all
checked before anything is created and stored in one transaction."""

from __future__ import annotations

from django.db import transaction

from finetunedb.exceptions import ApplicationError

from ..hooks import launch_options
from ..models import TrainingRun
from .runs import training_run_create

UNKNOWN_OPTION = "unknown launch option {name!r}"


def training_run_launch(*, user, version, options: dict | None = None, **arguments) -> TrainingRun:
    """``training_run_create(**arguments)`` and every option in ``options`` (None values are
    left out): a bad option is a 400 naming it, and no run is created."""
    registered = launch_options()
    checked = {}
    for name, value in (options or {}).items():
        if value is None:
            continue
        if name not in registered:
            message = UNKNOWN_OPTION.format(name=name)
            raise ApplicationError(message, errors=[{"path": name, "message": message}])
        checked[name] = registered[name].check(user=user, version=version, value=value)
    if not checked:
        # Without options no transaction around it: its pre-flight tokenizes for seconds.
        return training_run_create(user=user, version=version, **arguments)
    # The options are stored with the run, and the run is enqueued only once both commit.
    with transaction.atomic():
        run = training_run_create(user=user, version=version, **arguments)
        for name, value in checked.items():
            registered[name].save(run=run, checked=value)
    return run
