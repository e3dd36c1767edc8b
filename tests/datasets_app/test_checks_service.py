import time
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from datasets_app import tasks
from datasets_app.models import CheckResult, DatasetReport, Example
from datasets_app.services.bulk import examples_bulk_apply
from datasets_app.services.checks import (
    dataset_checks_run,
    dataset_report_compute,
    example_checks_refresh,
)
from datasets_app.services.examples import example_update
from datasets_app.services.imports import import_job_create

# Row replacement, locks and bulk inserts behave differently per database.
pytestmark = pytest.mark.postgres

FIXTURE = Path(__file__).parent.parent / "fixtures" / "checks" / "small.jsonl"
ANSWER = [{"role": "user", "content": "Name a primary colour."}]


def _import(dataset, user, data: bytes):
    upload = SimpleUploadedFile("rows.jsonl", data)
    return import_job_create(user=user, dataset=dataset, upload=upload)


def _rules(dataset, **filters):
    return sorted(
        CheckResult.objects.filter(dataset=dataset, **filters).values_list("rule_id", flat=True)
    )


def test_it_writes_results_after_an_import(dataset, owner, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        _import(dataset, owner, FIXTURE.read_bytes())
    assert Example.objects.filter(dataset=dataset).count() == 14
    report = DatasetReport.objects.get(dataset=dataset)
    assert report.computed_at is not None and not report.stale
    assert report.n_examples == 14
    assert report.token_stats["n_examples"] == 14
    rules = set(_rules(dataset))
    assert {"unfilled_placeholder", "exact_duplicates", "answer_ending_drift"} <= rules
    assert "surrounding_whitespace" in rules


def test_it_stores_dataset_findings_on_each_example_they_name(
    dataset, owner, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _import(dataset, owner, FIXTURE.read_bytes())
    duplicates = CheckResult.objects.filter(dataset=dataset, rule_id="exact_duplicates")
    first, last = sorted(duplicates.values_list("example_id", flat=True))
    assert duplicates.get(example_id=first).message == f"Identical to example {last}."
    assert duplicates.get(example_id=first).scope == "dataset"
    # A finding that names no example is one row without an example.
    assert CheckResult.objects.get(dataset=dataset, rule_id="few_examples").example_id is None


def test_it_matches_the_pure_report_row_for_row(dataset, owner, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        _import(dataset, owner, FIXTURE.read_bytes())
    report, n_read = dataset_report_compute(dataset)
    expected = sorted(
        (key, f.rule_id, f.path or "") for key, fs in report.example_findings.items() for f in fs
    )
    stored = sorted(
        CheckResult.objects.filter(dataset=dataset, scope="example").values_list(
            "example_id", "rule_id", "path"
        )
    )
    assert stored == expected
    assert n_read == 14


def test_it_rechecks_an_edited_example_and_drops_the_fixed_finding(
    dataset, owner, make_example, django_capture_on_commit_callbacks
):
    messages = [*ANSWER, {"role": "assistant", "content": "Red. "}]
    example = make_example(dataset, owner, messages=messages)
    assert _rules(dataset, example=example) == ["surrounding_whitespace"]
    with django_capture_on_commit_callbacks(execute=True):
        example_update(
            user=owner,
            example=example,
            expected_revision=example.revision,
            changes={"messages": [*ANSWER, {"role": "assistant", "content": "Red."}]},
        )
    assert _rules(dataset, example=example) == []
    assert DatasetReport.objects.get(dataset=dataset).computed_at is not None


def test_it_rechecks_one_example_well_under_50_ms(dataset, owner, make_example):
    long_answer = "Red is a primary colour in the RYB model. " * 40
    example = make_example(
        dataset, owner, messages=[*ANSWER, {"role": "assistant", "content": long_answer}]
    )
    example_checks_refresh(dataset=dataset, example_ids=[example.pk])  # warm the encoding
    timings = []
    for _ in range(7):
        start = time.perf_counter()
        example_checks_refresh(dataset=dataset, example_ids=[example.pk])
        timings.append(time.perf_counter() - start)
    assert sorted(timings)[3] < 0.05


def test_it_queues_one_run_for_a_burst_of_changes(
    dataset, owner, make_example, monkeypatch, django_capture_on_commit_callbacks
):
    queued = []
    monkeypatch.setattr(tasks.dataset_checks_run, "delay", queued.append)
    with django_capture_on_commit_callbacks(execute=True):
        for i in range(3):
            make_example(
                dataset, owner, messages=[*ANSWER, {"role": "assistant", "content": f"{i}"}]
            )
    assert queued == [dataset.pk]
    report = DatasetReport.objects.get(dataset=dataset)
    assert report.pending and report.stale

    dataset_checks_run(dataset_id=dataset.pk)
    assert not DatasetReport.objects.get(dataset=dataset).stale
    with django_capture_on_commit_callbacks(execute=True):
        make_example(dataset, owner)
    assert queued == [dataset.pk, dataset.pk]


def test_it_queues_nothing_when_the_write_rolls_back(
    dataset, owner, make_example, monkeypatch, django_capture_on_commit_callbacks
):
    from django.db import transaction

    queued = []
    monkeypatch.setattr(tasks.dataset_checks_run, "delay", queued.append)
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        with transaction.atomic():
            make_example(dataset, owner)
            raise RuntimeError("rolled back")
    assert queued == []
    assert not CheckResult.objects.filter(dataset=dataset).exists()


def test_it_drops_archived_examples_from_the_results(
    dataset, owner, make_example, django_capture_on_commit_callbacks
):
    blank = make_example(dataset, owner, messages=[*ANSWER, {"role": "assistant", "content": " x"}])
    assert CheckResult.objects.filter(example=blank).exists()
    with django_capture_on_commit_callbacks(execute=True):
        examples_bulk_apply(user=owner, dataset=dataset, action="archive", ids=[blank.pk])
    assert not CheckResult.objects.filter(example=blank).exists()
    assert DatasetReport.objects.get(dataset=dataset).n_examples == 0


def test_it_marks_the_report_stale_when_the_settings_change(
    dataset, owner, make_example, django_capture_on_commit_callbacks
):
    from datasets_app.services.checks import dataset_report

    with django_capture_on_commit_callbacks(execute=True):
        make_example(dataset, owner)
    assert dataset_report(dataset=dataset)["stale"] is False
    dataset.settings = {"target_context_tokens": 5}
    dataset.save()
    assert dataset_report(dataset=dataset)["stale"] is True
    dataset_checks_run(dataset_id=dataset.pk)
    assert dataset_report(dataset=dataset)["stale"] is False
    assert _rules(dataset, rule_id="over_context_length") == ["over_context_length"]
