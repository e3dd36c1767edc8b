"""Freeze, split and the safe-fix preview as page jobs (datasets_app/services/action_jobs.py):
each runs, shows its progress, lands on its result, fails with a clear error, and a second click
while it runs joins the first job."""

from __future__ import annotations

import pytest

from datasets_app.models import CheckResult, DatasetVersion, Example
from datasets_app.services import action_jobs
from datasets_app.services.checks import fix_scan
from finetunedb.actions import services as action_services
from finetunedb.actions.models import ActionJob


@pytest.fixture
def rows(dataset, owner, make_example):
    return [
        make_example(
            dataset,
            owner,
            [
                {"role": "user", "content": f"What is {i} plus {i}?"},
                {"role": "assistant", "content": f"  {i} plus {i} is {2 * i}.  "},
            ],
        )
        for i in range(5)
    ]


@pytest.fixture
def logged_in(client, owner):
    client.force_login(owner)
    return client


def status_of(job_id: int) -> dict:
    return action_services.action_job_status(ActionJob.objects.get(pk=job_id))


# --- freeze -----------------------------------------------------------------------------------
def test_it_freezes_in_a_job_that_says_what_it_is_doing(
    logged_in, dataset, rows, monkeypatch, django_capture_on_commit_callbacks
):
    seen = []
    freeze = action_jobs.dataset_version_freeze

    def spy(**kwargs):
        seen.append(status_of(ActionJob.objects.get().pk))
        return freeze(**kwargs)

    monkeypatch.setattr(action_jobs, "dataset_version_freeze", spy)
    with django_capture_on_commit_callbacks(execute=True):
        response = logged_in.post(f"/datasets/{dataset.pk}/versions/", {"name": "first"})
    job = ActionJob.objects.get()
    assert response["Location"] == f"/actions/{job.pk}/"
    assert [(s["status"], s["stage"], s["progress"]) for s in seen] == [
        ("running", action_jobs.FREEZING, None)
    ]
    assert job.title == "Freezing support-chats (5 examples)"
    version = DatasetVersion.objects.get()
    page = logged_in.get(f"/actions/{job.pk}/", follow=True)
    assert page.redirect_chain == [(f"/versions/{version.pk}/", 302)]
    assert "Version v1 frozen: 5 examples" in page.content.decode()


def test_it_runs_one_freeze_for_two_clicks(
    logged_in, dataset, rows, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first = logged_in.post(f"/datasets/{dataset.pk}/versions/", {"name": "a"})
        second = logged_in.post(f"/datasets/{dataset.pk}/versions/", {"name": "a"})
    assert first["Location"] == second["Location"]
    assert ActionJob.objects.count() == 1 and DatasetVersion.objects.count() == 1


def test_it_fails_the_freeze_clearly_when_the_gate_closed_meanwhile(
    logged_in, dataset, rows, monkeypatch
):
    monkeypatch.setattr(action_services, "action_job_enqueue", lambda job_id: None)
    response = logged_in.post(f"/datasets/{dataset.pk}/versions/", {"name": "a"})
    CheckResult.objects.create(
        dataset=dataset, example=rows[0], rule_id="empty_assistant", severity="error", message="m"
    )
    action_services.action_job_run_next()  # the worker, after the error appeared
    job = ActionJob.objects.get()
    assert job.status == "failed" and "The freeze is blocked" in job.failure_reason
    assert job.failure_details == [{"path": "empty_assistant", "message": "1 example(s): m"}]
    assert not DatasetVersion.objects.exists()
    html = logged_in.get(response["Location"]).content.decode()
    assert "The freeze is blocked" in html and "empty_assistant" in html
    assert f'href="/datasets/{dataset.pk}/versions/"' in html  # back to the form


def test_it_freezes_through_the_api_synchronously_or_as_a_job(
    api_for, owner, dataset, rows, django_capture_on_commit_callbacks
):
    api = api_for(owner)
    url = f"/api/v1/datasets/{dataset.pk}/versions/"
    assert api.post(url, {"name": "sync"}, format="json").status_code == 201
    with django_capture_on_commit_callbacks(execute=True):
        queued = api.post(f"{url}?async=1", {"name": "later"}, format="json")
    assert queued.status_code == 202
    body = queued.json()
    assert queued["Location"] == body["status_url"] == f"/api/v1/action-jobs/{body['id']}/"
    done = api.get(body["status_url"]).json()
    later = DatasetVersion.objects.get(name="later")
    assert done["status"] == "succeeded" and done["result"]["version"] == later.pk
    # The gate still answers 409 before anything is queued.
    CheckResult.objects.create(
        dataset=dataset, example=rows[0], rule_id="empty_assistant", severity="error", message="m"
    )
    refused = api.post(f"{url}?async=1", {}, format="json")
    assert refused.status_code == 409 and refused.json()["code"] == "gate"
    assert ActionJob.objects.count() == 1


# --- split ------------------------------------------------------------------------------------
def test_it_splits_in_a_job_reporting_each_stage(
    logged_in, dataset, rows, monkeypatch, django_capture_on_commit_callbacks
):
    stages = []
    split = action_jobs.dataset_split

    def spy(*, progress, **kwargs):
        def watched(**fields):
            progress(**fields)
            stages.append(status_of(ActionJob.objects.get().pk)["stage"])

        return split(progress=watched, **kwargs)

    monkeypatch.setattr(action_jobs, "dataset_split", spy)
    with django_capture_on_commit_callbacks(execute=True):
        queued = logged_in.post(
            f"/datasets/{dataset.pk}/split/",
            {"preset": "80/20", "seed": "3", "group_near_duplicates": "on"},
        )
    assert stages == [
        "Reading the examples and their duplicate groups",
        "Assigning 5 examples to splits",
        f"Writing {5 - Example.objects.filter(split='unassigned').count()} changed splits",
    ]
    page = logged_in.get(queued["Location"], follow=True)
    assert "Split done" in page.content.decode()
    assert not Example.objects.filter(split="unassigned").exists()


def test_it_refuses_bad_ratios_on_the_form_and_queues_nothing(logged_in, dataset, rows):
    response = logged_in.post(
        f"/datasets/{dataset.pk}/split/", {"preset": "custom", "ratio_train": "70", "seed": "0"}
    )
    assert response.status_code == 400 and "sum to 1" in response.content.decode()
    assert not ActionJob.objects.exists()


def test_it_shows_a_split_result_only_on_its_own_dataset(
    logged_in, dataset, rows, team, owner, django_capture_on_commit_callbacks
):
    from tests.factories import DatasetFactory

    with django_capture_on_commit_callbacks(execute=True):
        logged_in.post(f"/datasets/{dataset.pk}/split/", {"preset": "80/20", "seed": "1"})
    job = ActionJob.objects.get()
    other = DatasetFactory(team=team, name="other", created_by=owner)
    assert logged_in.get(f"/datasets/{other.pk}/split/?job={job.pk}").status_code == 404
    assert logged_in.get(f"/datasets/{dataset.pk}/checks/fixes/?job={job.pk}").status_code == 404


# --- safe-fix preview -------------------------------------------------------------------------
def test_it_scans_for_fixes_with_moving_progress_and_pages_the_preview(
    logged_in, dataset, rows, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(fix_scan, "CHUNK", 2)
    monkeypatch.setattr(action_services, "PROGRESS_EVERY_S", 0)
    seen = []
    scan = action_jobs.example_fixes_scan

    def spy(*, progress, **kwargs):
        def watched(**fields):
            progress(**fields)
            s = status_of(ActionJob.objects.get().pk)
            seen.append((s["done"], s["total"], s["progress"]))

        return scan(progress=watched, **kwargs)

    monkeypatch.setattr(action_jobs, "example_fixes_scan", spy)
    with django_capture_on_commit_callbacks(execute=True):
        queued = logged_in.get(f"/datasets/{dataset.pk}/checks/fixes/?fix=trim_whitespace")
    assert seen == [(0, 5, 0.0), (2, 5, 0.4), (4, 5, 0.8)]
    page = logged_in.get(queued["Location"], follow=True)
    job = ActionJob.objects.get()
    assert page.redirect_chain == [(f"/datasets/{dataset.pk}/checks/fixes/?job={job.pk}", 302)]
    html = page.content.decode()
    assert "<strong>5</strong> of 5 examples would change" in html
    # Another page of the same scan is read from its ids, with no new job.
    monkeypatch.setattr(fix_scan, "PREVIEW_MAX", 2)
    monkeypatch.setattr("datasets_app.pages.checks.PREVIEW_PAGE", 2)
    second = logged_in.get(f"/datasets/{dataset.pk}/checks/fixes/?job={job.pk}&page=2")
    assert second.status_code == 200 and ActionJob.objects.count() == 1
    assert f"/examples/{rows[2].pk}/" in second.content.decode()
    assert f"/examples/{rows[0].pk}/" not in second.content.decode()


def test_it_refuses_an_unknown_fix_at_once(logged_in, dataset, rows):
    response = logged_in.get(f"/datasets/{dataset.pk}/checks/fixes/?fix=nope", follow=True)
    assert "Unknown fix ids: nope" in response.content.decode()
    assert not ActionJob.objects.exists()


def test_it_shows_a_running_freeze_or_split_on_the_page_it_was_started_from(
    logged_in, dataset, rows, monkeypatch
):
    monkeypatch.setattr(action_services, "action_job_enqueue", lambda job_id: None)
    for page, body in (
        (f"/datasets/{dataset.pk}/versions/", {"name": "a"}),
        (f"/datasets/{dataset.pk}/split/", {"preset": "80/20", "seed": "1"}),
    ):
        assert 'id="action-job"' not in logged_in.get(page).content.decode()
        logged_in.post(page, body)  # queued, not run yet
        job = ActionJob.objects.latest("id")
        html = logged_in.get(page).content.decode()
        assert (
            f'data-status-url="/api/v1/action-jobs/{job.pk}/"' in html and "js/actions.js" in html
        )
