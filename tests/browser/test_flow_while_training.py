"""Issue 16 "Done means": on a 50,000-example dataset, with a training run in progress on the
training worker, its owner in real Chromium imports a file, runs a duplicate search and saves an
edit, and each completes while the run is still training.

The embedded topology of ``make run``: real ``celery worker -Q default`` and ``-Q training``
processes (tests/reliability/processes.py) on the test's SQLite file and a per-test DATA_DIR with
the filesystem broker. Every task the live server or this test sends goes to that broker, not
eagerly into the request, so nothing here runs inside the page's own process.
"""

from __future__ import annotations

import re
import time

import orjson
import pytest
from celery import Celery
from celery.app.task import Task
from playwright.sync_api import expect

from datasets_app.models import Example, ImportJob
from tests.many_examples import add_many
from tests.training.conftest import (  # noqa: F401 (the training app's fixtures)
    make_version,
    records,
    tiny_model_dir,
    tokenizer,
    training_settings,
    training_transactional_db,
)
from training.models import TrainingRun

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.timeout(300),
]

ROWS = 50_000
# 300 training examples, one a step, 20 epochs: 6,000 real optimizer steps, far more than the
# flow needs (the run is cancelled at the end).
SPLITS = ["train"] * 300 + ["validation"] * 2 + ["test"] * 2
HYPER = {
    "epochs": 20,
    "batch_size": 1,
    "max_seq_len": 64,
    "eval_interval": 0,
    "checkpoint_interval": 0,
    "lora_r": 4,
}


@pytest.fixture
def topology(settings, tmp_path, training_settings, tiny_model_dir, monkeypatch):  # noqa: F811
    """Both workers of the embedded topology, and every ``delay``/``apply_async`` of this process
    sent to their filesystem broker (queues as CELERY_TASK_ROUTES and the caller pick them)."""
    from tests.reliability.processes import Workers

    settings.DATA_DIR = tmp_path / "data"
    settings.FILE_UPLOAD_TEMP_DIR = str(settings.DATA_DIR / "tmp")
    (settings.DATA_DIR / "tmp").mkdir(parents=True)
    broker = settings.DATA_DIR / "broker"

    def apply_async(task, args=None, kwargs=None, **options):
        queue = options.get("queue") or (
            "training" if task.name.startswith("training.") else "default"
        )
        sender = Celery("sender", broker="filesystem://", set_as_current=False)
        sender.conf.broker_transport_options = {
            "data_folder_in": str(broker / "queue"),
            "data_folder_out": str(broker / "queue"),
            "processed_folder": str(broker / "processed"),
            "control_folder": str(broker / "control"),
        }
        try:
            sender.send_task(
                task.name,
                args=args,
                kwargs=kwargs,
                queue=queue,
                countdown=options.get("countdown"),
            )
        finally:
            sender.close()

    monkeypatch.setattr(Task, "apply_async", apply_async)
    with Workers(
        settings.DATA_DIR,
        tmp_path,
        FINETUNEDB_MODELS_DIR=str(settings.FINETUNEDB_MODELS_DIR),
        FINETUNEDB_BASE_MODELS=str(tiny_model_dir),
        FINETUNEDB_TRAINING_DEVICE="cpu",
        FINETUNEDB_EVAL_SAMPLES="1",
        FINETUNEDB_EVAL_MAX_NEW_TOKENS="4",
    ) as workers:
        logs = [workers.start(queues=q)[1] for q in ("default", "training")]
        for log in logs:
            workers.wait_for(lambda log=log: b"ready." in log.read_bytes(), f"{log.name}", 120)
        yield workers


def _training(owner, version, model_dir, workers) -> TrainingRun:
    from training.services.runs import training_run_create

    run = training_run_create(
        user=owner, version=version, base_model=str(model_dir), hyperparameters=HYPER
    )
    workers.wait_for(
        lambda: (
            TrainingRun.objects.filter(pk=run.pk, step__gte=1).exists()
            or TrainingRun.objects.get(pk=run.pk).is_finished
        ),
        "the training run's first step",
        120,
    )
    run.refresh_from_db()
    assert run.status == "running", (run.status, run.failure_reason, workers.logs())
    _ran_on_worker(workers, "training", "training.training_run_execute")
    return run


def _ran_on_worker(workers, queue: str, task: str) -> None:
    """The task went through the broker to that queue's worker (not eagerly into a request)."""
    log = workers.procs[["default", "training"].index(queue)][1].read_text()
    assert re.search(rf"Task {re.escape(task)}\[[-0-9a-f]+\] received", log), workers.logs()


def _still_training(run: TrainingRun, step: str) -> None:
    run.refresh_from_db()
    assert run.status == "running", f"the training run ended ({run.status}) before {step} did"


def test_it_imports_dedups_and_edits_at_50k_while_a_model_trains(
    new_page,
    screenshot,
    owner,
    team,
    make_version,  # noqa: F811
    tiny_model_dir,  # noqa: F811
    training_transactional_db,  # noqa: F811
    topology,
    tmp_path,
):
    from tests.factories import DatasetFactory
    from training.services.runs import training_run_cancel

    big = DatasetFactory(team=team, name="fifty-thousand", created_by=owner)
    pks = add_many(big, owner, ROWS)
    train_set = DatasetFactory(team=team, name="train-set", created_by=owner)
    version, _ = make_version(train_set, SPLITS)
    run = _training(owner, version, tiny_model_dir, topology)

    # A small file: one line repeats an example already in the dataset (an exact duplicate for
    # the search to find), two are new.
    upload = tmp_path / "more.jsonl"
    lines = [
        [
            {"role": "user", "content": f"bulk question {pks[0]}"},
            {"role": "assistant", "content": "an answer"},
        ],
        [
            {"role": "user", "content": "How long does a refund take?"},
            {"role": "assistant", "content": "Refunds reach your card within 5 working days."},
        ],
        [
            {"role": "user", "content": "Can I change the delivery address?"},
            {"role": "assistant", "content": "Yes, until the parcel ships, from the Orders page."},
        ],
    ]
    upload.write_bytes(b"".join(orjson.dumps({"messages": m}) + b"\n" for m in lines))

    page = new_page(owner)
    try:
        # 1. Import through the import page.
        started = time.monotonic()
        page.goto(f"/datasets/{big.pk}/import/")
        page.set_input_files("#import-file", str(upload))
        page.get_by_role("button", name="Upload and import").click()
        page.wait_for_url(re.compile(r"/imports/\d+/$"))
        expect(page.locator("#job-status")).to_have_text(
            re.compile("succeeded", re.I), timeout=90_000
        )
        expect(page.locator("#job-counts")).to_contain_text("3 examples created")
        screenshot(page, "flow-import-done")
        assert ImportJob.objects.get(dataset=big).status == "succeeded"
        assert Example.objects.filter(dataset=big).count() == ROWS + 3
        _ran_on_worker(topology, "default", "datasets_app.import_job_run")
        _still_training(run, "the import")
        print(f"import: {time.monotonic() - started:.1f}s")

        # 2. An exact duplicate search from the Duplicates page.
        started = time.monotonic()
        page.goto(f"/datasets/{big.pk}/duplicates/")
        page.get_by_label("Method").select_option("exact")
        page.get_by_role("button", name="Search").click()
        expect(page.get_by_text("Duplicate search started.")).to_be_visible()
        status = page.locator("#dedup-status")
        expect(status).to_have_text(re.compile("succeeded", re.I), timeout=150_000)
        expect(page.locator("#dedup-job")).to_contain_text("1 cluster, 1 extra copy")
        expect(page.locator(".cluster")).to_have_count(1)
        screenshot(page, "flow-dedup-done")
        _ran_on_worker(topology, "default", "datasets_app.dedup_job_run")
        _still_training(run, "the duplicate search")
        print(f"dedup: {time.monotonic() - started:.1f}s")

        # 3. An edit of one of the 50,000 in the editor.
        started = time.monotonic()
        edited = pks[ROWS // 2]
        page.goto(f"/examples/{edited}/edit/")
        page.get_by_label("Turn 2 content").fill("An answer, edited while a model trains.")
        page.get_by_role("button", name="Save").click()
        expect(page.get_by_role("status").filter(has_text="Saved")).to_be_visible(timeout=30_000)
        screenshot(page, "flow-edit-saved")
        ex = Example.objects.select_related("current_revision").get(pk=edited)
        assert ex.current_revision.number == 2
        assert ex.current_revision.messages[1]["content"] == (
            "An answer, edited while a model trains."
        )
        _still_training(run, "the edit")
        print(f"edit: {time.monotonic() - started:.1f}s; training at step {run.step}")
    finally:
        run = TrainingRun.objects.get(pk=run.pk)
        if not run.is_finished:
            training_run_cancel(user=owner, run=run)
            topology.wait_for(
                lambda: TrainingRun.objects.get(pk=run.pk).is_finished, "the cancel", 60
            )
    assert TrainingRun.objects.get(pk=run.pk).status == "cancelled"
