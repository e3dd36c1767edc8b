"""A slow page action in real Chromium (issue 16.3): the freeze answers at once with a page that
shows its progress, the rest of the app stays usable while the worker freezes, and the person
lands on the new version when it is done."""

import re
import threading

import pytest
from django.db import connection
from playwright.sync_api import expect

from datasets_app.models import DatasetVersion
from finetunedb import faults
from finetunedb.actions import services as action_services
from finetunedb.actions.models import ActionJob
from tests.datasets_app.versions.conftest import purge_versions

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def worker(monkeypatch):
    """Jobs run on a thread, as on the worker, not inside the request that queued them; the
    freeze holds its transaction open for a few seconds (a large dataset)."""
    threads = []

    def work():
        try:
            action_services.action_job_run_next()
        finally:
            connection.close()

    def enqueue(job_id):
        thread = threading.Thread(target=work, daemon=True)
        thread.start()
        threads.append(thread)

    monkeypatch.setattr(action_services, "action_job_enqueue", enqueue)
    faults.configure("freeze.before_commit=delay:6")
    yield
    faults.configure(None)
    for thread in threads:
        thread.join(30)
    purge_versions()


def chat(i):
    return [
        {"role": "user", "content": f"How many days are in {i + 1} weeks?"},
        {"role": "assistant", "content": f"There are {7 * (i + 1)} days in {i + 1} weeks."},
    ]


def test_it_shows_a_freeze_in_progress_and_stays_usable(
    new_page, screenshot, owner, dataset, make_example, worker
):
    for i in range(10):  # fewer is an error-level finding that blocks freezing
        make_example(dataset, owner, chat(i))
    page = new_page(owner)
    page.goto(f"/datasets/{dataset.pk}/versions/")
    page.get_by_label("Name").fill("first")
    page.get_by_role("button", name="Freeze version").click()

    page.wait_for_url(re.compile(r"/actions/\d+/$"))
    expect(page.get_by_role("heading", name="Freezing support-chats (10 examples)")).to_be_visible()
    expect(page.locator("#action-job-status")).to_have_text("Running")
    stage = page.locator("#action-job-stage")
    expect(stage).to_contain_text("Snapshotting, hashing and sealing")
    expect(stage).to_contain_text(re.compile(r"[1-9][\d.]* s so far"))  # the clock moves
    assert page.locator("#action-job-progress").get_attribute("value") is None  # indeterminate
    screenshot(page, "action-job-running")

    # The app answers while the worker freezes: another page opens, and the job is still going.
    page.get_by_role("link", name="Datasets", exact=True).click()
    expect(page.get_by_role("link", name="support-chats")).to_be_visible()
    assert ActionJob.objects.get().status == "running"
    page.go_back()

    page.wait_for_url(re.compile(r"/versions/\d+/$"), timeout=30_000)
    version = DatasetVersion.objects.get()
    assert page.url.endswith(f"/versions/{version.pk}/")
    expect(page.get_by_text("Version v1 frozen: 10 examples")).to_be_visible()
    screenshot(page, "action-job-done")


def test_it_lands_on_the_result_without_javascript(
    browser, live_server, owner, dataset, make_example, worker
):
    from tests.browser.conftest import PASSWORD

    for i in range(10):
        make_example(dataset, owner, chat(i))
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    page = context.new_page()
    page.goto("/login/")
    page.get_by_label("Username").fill(owner.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto(f"/datasets/{dataset.pk}/versions/")
    page.get_by_role("button", name="Freeze version").click()
    page.wait_for_url(re.compile(r"/actions/\d+/$"))
    expect(page.locator("#action-job-status")).to_have_text("Running")
    # The page refreshes itself every 2 s (<noscript> meta refresh) until the job is done.
    page.wait_for_url(re.compile(r"/versions/\d+/$"), timeout=30_000)
    expect(page.get_by_text("Version v1 frozen: 10 examples")).to_be_visible()
    context.close()


def test_it_says_why_a_freeze_failed_and_leads_back_to_the_form(
    new_page, screenshot, owner, dataset, make_example, worker, monkeypatch
):
    from datasets_app.models import CheckResult

    examples = [make_example(dataset, owner, chat(i)) for i in range(10)]
    enqueue = action_services.action_job_enqueue

    def gate_closes_first(job_id):
        # An error-level finding appears between the click and the worker.
        CheckResult.objects.create(
            dataset=dataset,
            example=examples[3],
            rule_id="empty_assistant",
            severity="error",
            message="The assistant's answer is empty.",
        )
        enqueue(job_id)

    monkeypatch.setattr(action_services, "action_job_enqueue", gate_closes_first)
    page = new_page(owner)
    page.goto(f"/datasets/{dataset.pk}/versions/")
    page.get_by_role("button", name="Freeze version").click()
    page.wait_for_url(re.compile(r"/actions/\d+/$"))
    expect(page.locator("#action-job-status")).to_have_text("Failed")
    expect(page.locator("#action-job-failure")).to_contain_text("The freeze is blocked")
    expect(page.locator("#action-job-details")).to_contain_text(
        "empty_assistant: 1 example(s): The assistant's answer is empty."
    )
    screenshot(page, "action-job-failed")
    page.get_by_role("link", name="Back to the form").click()
    page.wait_for_url(re.compile(rf"/datasets/{dataset.pk}/versions/$"))
    assert not DatasetVersion.objects.exists()
