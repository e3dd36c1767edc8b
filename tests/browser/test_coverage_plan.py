"""Issue 22's done means, in the browser: a coverage plan with three targets shows its gaps,
an under-target bucket's authoring queue closes part of its gap, and an over-target bucket
becomes a review queue in one click."""

import re

import pytest
from playwright.sync_api import expect

from annotation.models import Assignment

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def chat(i):
    return [
        {"role": "user", "content": f"Question {i}?"},
        {"role": "assistant", "content": f"Answer {i}."},
    ]


def add_target(page, kind, value, mode, share, key="", tolerance="0"):
    form = page.locator("#add-target")
    form.get_by_label("Bucket").select_option(kind)
    form.get_by_label("Metadata key").fill(key)
    form.get_by_label("Value").fill(value)
    form.get_by_label("Target", exact=True).select_option(mode)
    form.get_by_label("Share (%)").fill(share)
    form.get_by_label("± tolerance (%)").fill(tolerance)
    with page.expect_navigation():
        form.get_by_role("button", name="Add target").click()
    expect(page.get_by_text("Target added")).to_be_visible()


def row(page, text):
    return page.locator("#plan tr", has_text=text)


def test_it_plans_three_targets_shows_gaps_and_creates_a_queue(
    new_page, screenshot, owner, dataset, make_example
):
    # 20 examples: 2 about refunds, 8 refusals, 5 in German
    for i in range(20):
        tags = ["refunds"] if i < 2 else ["refusal"] if i < 10 else []
        lang = "de" if 10 <= i < 15 else "en"
        make_example(dataset, owner, messages=chat(i), tags=tags, metadata={"lang": lang})
    page = new_page(owner)
    page.goto(f"/datasets/{dataset.pk}/")
    page.get_by_role("navigation", name="Dataset").get_by_role("link", name="Coverage").click()
    expect(page.get_by_text("No targets yet.")).to_be_visible()

    add_target(page, "tag", "refunds", "about", "20")
    add_target(page, "tag", "refusal", "max", "5")
    add_target(page, "metadata", "de", "min", "25", key="lang")
    expect(row(page, "tag 'refunds'")).to_contain_text("under: add 3")
    expect(row(page, "tag 'refusal'")).to_contain_text("over: remove or deprioritize 8")
    expect(row(page, "metadata lang")).to_contain_text("met")
    expect(page.get_by_text("2 targets not met.")).to_be_visible()
    screenshot(page, "coverage-plan")

    # a bad target is refused with its field named, and nothing is added
    form = page.locator("#add-target")
    form.get_by_label("Value").fill("x")
    form.get_by_label("Share (%)").fill("150")
    form.get_by_role("button", name="Add target").click()
    expect(page.get_by_role("alert")).to_contain_text("share: must be a number from 0 to 100")
    expect(page.locator("#plan tbody tr")).to_have_count(3)

    # the authoring queue: write one refund example, the gap shrinks
    row(page, "tag 'refunds'").get_by_role("link", name="Write examples").click()
    expect(page.locator("#coverage-left")).to_contain_text("3 more wanted")
    expect(page.get_by_label("Tags")).to_have_value("refunds")
    page.get_by_label("User").fill("Can I get my money back?")
    page.get_by_label("Assistant").fill("Yes, within 30 days.")
    with page.expect_navigation():
        page.get_by_role("button", name="Save and write the next").click()
    expect(page.locator("#coverage-left")).to_contain_text("2 more wanted")
    page.get_by_role("link", name="coverage plan").click()
    expect(row(page, "tag 'refunds'")).to_contain_text("under: add 2")

    # the over-target bucket becomes a review queue in one click
    with page.expect_navigation():
        row(page, "tag 'refusal'").get_by_role("button", name="Create review queue").click()
    assignment = Assignment.objects.get()
    expect(page).to_have_url(re.compile(rf"/assignments/{assignment.pk}/$"))
    expect(page.get_by_text("Review queue created")).to_be_visible()
    assert assignment.items.count() == 8
    screenshot(page, "coverage-queue")
