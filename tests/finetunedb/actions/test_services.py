"""Action jobs (finetunedb/actions): started once per key, run by the registered runner, their
progress, result and refusal shown by the one status endpoint and the one status page."""

from __future__ import annotations

import pytest

from finetunedb.actions import registry, services
from finetunedb.actions.models import ActionJob
from finetunedb.exceptions import ApplicationError

SEEN: list[dict] = []


def counting_run(*, job, progress):
    """A runner that reports three chunks and remembers what the status endpoint showed."""
    for done in range(3):
        progress(stage="counting", done=done, total=3)
        SEEN.append(services.action_job_status(ActionJob.objects.get(pk=job.pk)))
    return registry.ActionOutcome(url=f"/datasets/?counted={job.params['n']}", result={"n": 3})


def refusing_run(*, job, progress):
    raise ApplicationError("Nothing to count.", errors=[{"path": "n", "message": "must be > 0"}])


def crashing_run(*, job, progress):
    raise RuntimeError("/secret/path/in/a/traceback")


def writing_run(*, job, progress):
    """An atomic action's write: a row the job's success must commit with."""
    from django.contrib.auth.models import Group

    Group.objects.create(name=f"written by {job.pk}")
    # Another attempt takes the job meanwhile: this attempt must leave nothing.
    ActionJob.objects.filter(pk=job.pk).update(attempts=job.attempts + 5)
    return registry.ActionOutcome(url="/datasets/")


@pytest.fixture
def actions(monkeypatch):
    kinds = {
        "count": registry.ActionKind(name="count", run=f"{__name__}.counting_run"),
        "refuse": registry.ActionKind(name="refuse", run=f"{__name__}.refusing_run"),
        "crash": registry.ActionKind(name="crash", run=f"{__name__}.crashing_run"),
        "write": registry.ActionKind(name="write", run=f"{__name__}.writing_run", atomic=True),
    }
    monkeypatch.setattr(registry, "_ACTIONS", {**registry._ACTIONS, **kinds})
    monkeypatch.setattr(services, "PROGRESS_EVERY_S", 0)
    SEEN.clear()
    return kinds


def start(owner, team, action="count", key="count 1"):
    return services.action_job_start(
        user=owner, team_id=team.pk, action=action, key=key, title="Counting", params={"n": 1}
    )


def test_it_runs_the_job_reports_progress_and_lands_on_the_result(
    actions, owner, team, client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        job, created = start(owner, team)
    assert created
    assert [(s["stage"], s["done"], s["total"]) for s in SEEN] == [
        ("counting", 0, 3),
        ("counting", 1, 3),
        ("counting", 2, 3),
    ]
    assert [s["progress"] for s in SEEN] == [0.0, 0.3333, 0.6667]
    job.refresh_from_db()
    assert (job.status, job.result, job.progress) == ("succeeded", {"n": 3}, 1.0)
    client.force_login(owner)
    page = client.get(f"/actions/{job.pk}/")
    assert page.status_code == 302 and page["Location"] == "/datasets/?counted=1"
    body = client.get(f"/api/v1/action-jobs/{job.pk}/").json()
    assert body["status"] == "succeeded" and body["result_url"] == "/datasets/?counted=1"


def test_it_shows_a_queued_job_with_a_refreshing_page_and_a_polled_bar(
    actions, owner, team, client
):
    job, _ = start(owner, team)  # never committed in this test: it stays queued
    client.force_login(owner)
    html = client.get(f"/actions/{job.pk}/").content.decode()
    assert '<meta http-equiv="refresh" content="2">' in html  # inside <noscript>
    assert f'data-status-url="/api/v1/action-jobs/{job.pk}/"' in html
    assert "Waiting for a worker" in html and "js/actions.js" in html
    body = client.get(f"/api/v1/action-jobs/{job.pk}/").json()
    assert (body["status"], body["progress"], body["result_url"]) == ("queued", None, "")


def test_it_joins_the_running_job_on_a_second_click(actions, owner, team):
    first, created = start(owner, team)
    second, again = start(owner, team)
    assert created and not again and second.pk == first.pk
    assert ActionJob.objects.count() == 1
    other, created = start(owner, team, key="count 2")
    assert created and other.pk != first.pk


def test_it_allows_one_active_job_per_key_in_the_database(actions, owner, team):
    from django.db import IntegrityError, transaction

    start(owner, team)
    with pytest.raises(IntegrityError), transaction.atomic():
        ActionJob.objects.create(team=team, action="count", key="count 1", title="t")


def test_it_starts_again_once_the_job_ended(
    actions, owner, team, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first, _ = start(owner, team)
    with django_capture_on_commit_callbacks(execute=True):
        second, created = start(owner, team)
    assert created and second.pk != first.pk
    body = services.action_job_status(second)
    assert body["previous_s"] is not None  # "the last one took … s"


def test_it_shows_a_refusal_with_its_details(
    actions, owner, team, client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        job, _ = start(owner, team, action="refuse", key="refuse 1")
    client.force_login(owner)
    page = client.get(f"/actions/{job.pk}/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "Nothing to count." in html and "must be &gt; 0" in html and "refresh" not in html
    body = client.get(f"/api/v1/action-jobs/{job.pk}/").json()
    assert body["failure_details"] == [{"path": "n", "message": "must be > 0"}]


def test_it_fails_a_crash_without_leaking_it(
    actions, owner, team, client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        job, _ = start(owner, team, action="crash", key="crash 1")
    job.refresh_from_db()
    assert job.status == "failed" and job.failure_reason == services.CRASHED
    client.force_login(owner)
    assert b"/secret/path" not in client.get(f"/actions/{job.pk}/").content


def test_it_commits_nothing_of_an_atomic_action_whose_lease_was_lost(
    actions, owner, team, django_capture_on_commit_callbacks
):
    from django.contrib.auth.models import Group

    with django_capture_on_commit_callbacks(execute=True):
        job, _ = start(owner, team, action="write", key="write 1")
    job.refresh_from_db()
    assert not Group.objects.exists()  # rolled back with the job's success
    assert job.status == "running" and job.result is None


def test_it_hides_another_teams_job(actions, owner, team, outsider, client, api_for):
    job, _ = start(owner, team)
    client.force_login(outsider)
    assert client.get(f"/actions/{job.pk}/").status_code == 404
    assert api_for(outsider).get(f"/api/v1/action-jobs/{job.pk}/").status_code == 404
    assert api_for(None).get(f"/api/v1/action-jobs/{job.pk}/").status_code == 401


def test_it_keeps_the_last_jobs_of_a_key_only(
    actions, owner, team, django_capture_on_commit_callbacks
):
    for _ in range(services.KEPT_PER_KEY + 3):
        with django_capture_on_commit_callbacks(execute=True):
            start(owner, team)
    assert ActionJob.objects.count() == services.KEPT_PER_KEY
