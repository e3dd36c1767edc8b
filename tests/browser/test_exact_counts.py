"""Exact counts in real Chromium (issue 16.2): a filter's number arrives after the page, the
"all matching" choice waits for it, and the bulk action confirms the exact number it changes."""

import re

import pytest
from playwright.sync_api import expect

from datasets_app.models import Example
from tests.many_examples import add_many

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_it_confirms_a_bulk_action_on_a_filter_with_its_exact_count(
    new_page, screenshot, owner, dataset
):
    add_many(dataset, owner, 10_050, word="apple", tag="fruit")
    add_many(dataset, owner, 3, word="banana")
    page = new_page(owner)
    page.goto(f"/datasets/{dataset.pk}/?tag=fruit")
    expect(page.locator("#result-count")).to_have_text("10,050 examples match.")
    everything = page.get_by_label(re.compile(r"All 10,050 matching the filter"))
    expect(everything).to_be_enabled()
    screenshot(page, "example-list-exact-count")

    everything.check()
    page.get_by_label("Action").select_option(label="Archive")
    # Choosing the action is not a filter change: the list is not fetched again, so the
    # "all matching" choice stays (the filter form once listened to every <select> on the page).
    page.wait_for_timeout(600)
    expect(everything).to_be_checked()
    page.get_by_role("button", name="Apply", exact=True).click()
    expect(page.get_by_role("heading", name="Archive: change 10,050 examples?")).to_be_visible()
    screenshot(page, "bulk-confirm-exact-count")
    page.get_by_role("button", name="Change 10,050 examples").click()
    expect(page.get_by_text("Archive: 10,050 examples changed.")).to_be_visible()
    assert Example.objects.filter(status="archived").count() == 10_050
    expect(page.locator("#result-count")).to_have_text("0 examples match.")
