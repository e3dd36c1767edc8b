"""The dataset run after an edit rescans the changed examples only, and stores exactly what a
full run stores (services/checks/store.py keeps each worker's scans)."""

from pathlib import Path

import orjson
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from datasets_app import tasks
from datasets_app.checks import incremental
from datasets_app.models import CheckResult, DatasetReport, Example
from datasets_app.services.checks import dataset_checks_run, dataset_checks_schedule
from datasets_app.services.examples import example_archive, example_update
from datasets_app.services.imports import import_job_create

pytestmark = pytest.mark.postgres

FIXTURE = Path(__file__).parent.parent / "fixtures" / "checks" / "small.jsonl"


@pytest.fixture
def imported(dataset, owner, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        import_job_create(
            user=owner,
            dataset=dataset,
            upload=SimpleUploadedFile("rows.jsonl", FIXTURE.read_bytes()),
        )
    assert Example.objects.filter(dataset=dataset).count() == 14
    return dataset


@pytest.fixture
def scanned(monkeypatch):
    """How many examples each run scanned."""
    counts: list[int] = []
    real = incremental.scan_examples

    def counting(items, settings, encoding):
        n = 0
        for out in real(items, settings, encoding):
            n += 1
            yield out
        counts.append(n)

    monkeypatch.setattr(incremental, "scan_examples", counting)
    return counts


def _stored(dataset) -> tuple:
    rows = sorted(
        CheckResult.objects.filter(dataset=dataset).values_list(
            "example_id", "rule_id", "severity", "scope", "message", "path", "details"
        ),
        key=repr,
    )
    report = DatasetReport.objects.values(
        "n_examples", "token_stats", "histograms", "dataset_findings", "settings_used"
    ).get(dataset=dataset)
    return rows, report


def test_it_stores_after_edits_exactly_what_a_full_run_stores(imported, owner, scanned):
    dataset_checks_run(dataset_id=imported.pk)  # this process now keeps the scans
    first, second, third = Example.objects.filter(dataset=imported).order_by("pk")[:3]
    # the first becomes a copy of the second (a new duplicate group), the third is archived
    example_update(
        user=owner,
        example=first,
        expected_revision=first.revision,
        changes={"messages": second.current_revision.messages},
    )
    example_archive(user=owner, example=third, expected_revision=third.revision)
    scanned.clear()

    dataset_checks_run(dataset_id=imported.pk)
    assert scanned == [1]  # the edited example only
    after_edits = _stored(imported)
    duplicates = CheckResult.objects.filter(dataset=imported, rule_id="exact_duplicates")
    assert {first.pk, second.pk} <= set(duplicates.values_list("example_id", flat=True))
    assert not CheckResult.objects.filter(example_id=third.pk).exists()

    dataset_checks_run(dataset_id=imported.pk, full=True)
    assert scanned == [1, 13]
    assert _stored(imported) == after_edits


def test_it_rescans_nothing_when_nothing_changed(imported, scanned):
    dataset_checks_run(dataset_id=imported.pk)
    before = _stored(imported)
    scanned.clear()
    dataset_checks_run(dataset_id=imported.pk)
    assert scanned == [0]
    assert _stored(imported) == before


def test_it_rescans_everything_when_the_check_settings_change(imported, scanned):
    dataset_checks_run(dataset_id=imported.pk)
    imported.settings = {**(imported.settings or {}), "target_context_tokens": 10}
    imported.save(update_fields=["settings"])
    scanned.clear()
    dataset_checks_run(dataset_id=imported.pk)
    assert scanned == [14]
    assert CheckResult.objects.filter(dataset=imported, rule_id="over_context_length").exists()


def test_it_queues_a_full_recheck_even_while_a_run_is_pending(
    dataset, owner, make_example, monkeypatch, django_capture_on_commit_callbacks
):
    queued = []
    monkeypatch.setattr(tasks.dataset_checks_run, "delay", lambda *a, **k: queued.append((a, k)))
    with django_capture_on_commit_callbacks(execute=True):
        make_example(dataset, owner)  # an edit: one run queued
        dataset_checks_schedule(dataset_id=dataset.pk)  # another: folded into the pending one
        dataset_checks_schedule(dataset_id=dataset.pk, full=True)  # "Re-check now"
    assert queued == [((dataset.pk,), {}), ((dataset.pk,), {"full": True})]


def test_it_rechecks_every_example_when_a_curator_asks(
    dataset, owner, client, monkeypatch, django_capture_on_commit_callbacks
):
    queued = []
    monkeypatch.setattr(tasks.dataset_checks_run, "delay", lambda *a, **k: queued.append((a, k)))
    client.force_login(owner)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/datasets/{dataset.pk}/checks/recheck/")
    assert response.status_code == 302
    assert queued == [((dataset.pk,), {"full": True})]


def test_it_reports_preference_prompts_in_two_splits_after_a_split_without_rescanning(
    dataset, owner, scanned, django_capture_on_commit_callbacks
):
    from datasets_app.services.splits import dataset_split

    rows = "".join(
        orjson.dumps(
            {"prompt": question, "chosen": f"A careful answer number {i}.", "rejected": f"No {i}."}
        ).decode()
        + "\n"
        for i, question in enumerate(
            ["What is the capital of France?"] * 2 + [f"Name {n} colours." for n in range(10)]
        )
    )
    with django_capture_on_commit_callbacks(execute=True):
        import_job_create(
            user=owner, dataset=dataset, upload=SimpleUploadedFile("p.jsonl", rows.encode())
        )
    dataset_checks_run(dataset_id=dataset.pk)
    rules = set(CheckResult.objects.filter(dataset=dataset).values_list("rule_id", flat=True))
    assert "preference_length_bias" in rules and "preference_prompt_leakage" not in rules
    first, second = Example.objects.filter(dataset=dataset).order_by("pk")[:2]
    Example.objects.filter(pk=first.pk).update(split="train")
    Example.objects.filter(pk=second.pk).update(split="test")
    scanned.clear()
    dataset_checks_run(dataset_id=dataset.pk)
    assert scanned == [0]  # a split is not content: nothing rescanned
    leaked = CheckResult.objects.filter(dataset=dataset, rule_id="preference_prompt_leakage")
    assert set(leaked.values_list("example_id", flat=True)) == {first.pk, second.pk}
    # a split job schedules the run itself
    with django_capture_on_commit_callbacks() as callbacks:
        dataset_split(user=owner, dataset=dataset, ratios={"train": 0.5, "validation": 0.5})
    assert callbacks
