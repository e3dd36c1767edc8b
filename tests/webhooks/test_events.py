"""The apps' events reach a receiver: imports (finished, failed), dedup jobs, training runs
(started, failed), eval runs, first served calls; each with the ids, names, status and API
urls of what happened."""

from __future__ import annotations

import json

import orjson
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.evaluation.conftest import (  # noqa: F401 (fixtures)
    eval_settings,
    gsm_version,
    make_suite,
    no_enqueue,
    suite,
)
from tests.training.conftest import (  # noqa: F401 (fixtures)
    make_version,
    queued_run,
    tiny_hyperparameters,
    tiny_model_dir,
    training_settings,
    version,
)
from tests.training.recipe.conftest import records, tokenizer  # noqa: F401 (fixtures)
from webhooks.services.endpoints import webhook_endpoint_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def listen(owner, team, receiver, private_allowed):
    def make(*events):
        webhook_endpoint_create(user=owner, team=team, url=receiver.url, events=list(events))

    return make


def received(receiver) -> list[dict]:
    return [json.loads(r["body"]) for r in receiver.requests]


def upload(lines: list[bytes]):
    return SimpleUploadedFile("chats.jsonl", b"".join(line + b"\n" for line in lines))


CHAT = orjson.dumps(
    {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]}
)


def test_it_announces_a_finished_and_a_failed_import(
    owner, dataset, receiver, listen, django_capture_on_commit_callbacks
):
    from datasets_app.services.imports import import_job_create

    listen("import.finished", "import.failed")
    with django_capture_on_commit_callbacks(execute=True):
        done = import_job_create(user=owner, dataset=dataset, upload=upload([CHAT]))
    with django_capture_on_commit_callbacks(execute=True):
        failed = import_job_create(user=owner, dataset=dataset, upload=upload([CHAT, b"{oops"]))
    first, second = received(receiver)
    assert first["type"] == "import.finished"
    assert first["data"]["import"] == {
        "id": done.pk,
        "status": "succeeded",
        "examples_created": 1,
        "rows_invalid": 0,
        "failure_reason": "",
        "url": f"/api/v1/imports/{done.pk}/",
    }
    assert first["data"]["dataset"] == {"id": dataset.pk, "name": dataset.name}
    assert second["type"] == "import.failed"
    assert second["data"]["import"]["id"] == failed.pk
    assert second["data"]["import"]["status"] == "failed"
    assert second["data"]["import"]["failure_reason"]


def test_it_announces_a_training_run_starting_and_failing(
    queued_run,  # noqa: F811
    receiver,
    listen,
    django_capture_on_commit_callbacks,
):
    from training.models import TrainingRun
    from training.services import execute

    listen("training.started", "training.failed", "training.finished")
    run = queued_run()
    TrainingRun.objects.filter(pk=run.pk).update(dataset_version_hash="0" * 64)
    with django_capture_on_commit_callbacks(execute=True):
        execute.training_run_execute(run_id=run.pk)
    started, failed = received(receiver)
    assert (started["type"], started["data"]["training_run"]["status"]) == (
        "training.started",
        "running",
    )
    assert failed["type"] == "training.failed"
    assert failed["data"]["training_run"]["id"] == run.pk
    assert "no longer matches its hash" in failed["data"]["training_run"]["failure_reason"]
    assert failed["data"]["model"] is None
    assert failed["data"]["version"]["id"] == run.version_id
    assert failed["data"]["training_run"]["url"] == f"/api/v1/training-runs/{run.pk}/"


def test_it_announces_a_finished_eval_run(
    api_for,
    owner,
    suite,  # noqa: F811
    eval_settings,  # noqa: F811
    tiny_model_dir,  # noqa: F811
    no_enqueue,  # noqa: F811
    receiver,
    listen,
    django_capture_on_commit_callbacks,
):
    from evaluation.models import EvalSuite
    from evaluation.services import execute

    listen("eval_run.finished")
    body = {"base_model": str(tiny_model_dir), "max_new_tokens": 4}
    run_id = api_for(owner).post(f"/api/v1/eval-suites/{suite.pk}/runs/", body, format="json")
    run_id = run_id.json()["id"]
    EvalSuite.objects.filter(pk=suite.pk).update(version_hash="0" * 64)  # fails at once
    with django_capture_on_commit_callbacks(execute=True):
        execute.eval_run_execute(run_id=run_id)
    [event] = received(receiver)
    assert event["type"] == "eval_run.finished"
    assert event["data"]["eval_run"]["id"] == run_id
    assert event["data"]["eval_run"]["status"] == "failed"
    assert event["data"]["suite"] == {"id": suite.pk, "name": suite.name}


def test_it_announces_a_fine_tuned_models_first_served_call_once(
    team, receiver, listen, django_capture_on_commit_callbacks
):
    from serving.services import served_call_log

    listen("model.served")
    call = {
        "team": team,
        "messages": [{"role": "user", "content": "hi"}],
        "tools": None,
        "text": "hello",
        "done": {},
        "latency_ms": 12,
    }
    with django_capture_on_commit_callbacks(execute=True):
        served_call_log(model_id="ftdb-model-41", **call)
        served_call_log(model_id="ftdb-model-41", **call)
        served_call_log(model_id="bundled:smollm2-135m-instruct", **call)
    [event] = received(receiver)
    assert event["type"] == "model.served"
    assert event["data"]["model"] == {
        "id": 41,
        "name": "ftdb-model-41",
        "url": "/api/v1/models/41/",
    }


def test_it_announces_a_finished_dedup_job(
    owner, dataset, make_example, receiver, listen, django_capture_on_commit_callbacks
):
    from datasets_app.services.dedup.jobs import dedup_job_create

    listen("dedup.finished")
    for _ in range(2):
        make_example(dataset, owner)  # the same conversation twice: one exact cluster
    with django_capture_on_commit_callbacks(execute=True):
        job = dedup_job_create(user=owner, dataset=dataset, method="exact")
    [event] = received(receiver)
    assert event["type"] == "dedup.finished"
    assert event["data"]["dedup_job"] == {
        "id": job.pk,
        "status": "succeeded",
        "method": "exact",
        "clusters_found": 1,
        "duplicates_found": 1,
        "url": f"/api/v1/dedup-jobs/{job.pk}/",
    }
    assert event["data"]["dataset"] == {"id": dataset.pk, "name": dataset.name}
