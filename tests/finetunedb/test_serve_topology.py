"""Issue 16.1: ``make run`` (scripts/serve.sh) starts the topology a team needs: one worker for
the ``default`` queue (imports, checks, dedup, page actions) and one for ``training`` (training,
evaluation, the playground, eval runs), so nothing waits behind a model that trains; and every
task that loads a model is routed to the training queue, never to the default worker."""

from __future__ import annotations

import re
from pathlib import Path

from celery import current_app

ROOT = Path(__file__).resolve().parents[2]
MODEL_TASKS = {
    "training.training_run_execute",
    "training.model_evaluate",
    "training.playground_request_run",
    "training.eval_run_execute",
}


def _workers(script: str) -> list[list[str]]:
    """The ``-Q`` queues of each celery worker the script starts (continued lines joined)."""
    joined = script.replace("\\\n", " ")
    return [
        m.group(1).split(",")
        for line in joined.splitlines()
        if re.search(r"celery\b.*\bworker\b", line) and not line.lstrip().startswith("#")
        for m in [re.search(r"-Q\s+(\S+)", line)]
        if m
    ]


def test_make_run_starts_one_worker_for_default_and_one_for_training():
    script = (ROOT / "scripts" / "serve.sh").read_text()
    assert sorted(_workers(script)) == [["default"], ["training"]]
    assert "serving.engine.server" in script  # the serving engine beside them


def test_every_task_that_loads_a_model_goes_to_the_training_queue(db):
    from django.conf import settings

    import evaluation.tasks  # noqa: F401 - registers the tasks
    import training.tasks  # noqa: F401

    router = current_app.amqp.router
    assert MODEL_TASKS <= set(current_app.tasks)
    assert {name: router.route({}, name)["queue"].name for name in MODEL_TASKS} == {
        name: "training" for name in MODEL_TASKS
    }
    assert router.route({}, "datasets_app.import_job_run")["queue"].name == "default"
    assert settings.CELERY_TASK_DEFAULT_QUEUE == "default"
