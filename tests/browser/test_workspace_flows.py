"""The annotator's main flows in real Chromium: sign in, create a dataset, import a file,
search and filter, edit and save, review with the keyboard."""

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "workspace" / "chats.jsonl"


def chat(question, answer="ok"):
    return [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]


def test_it_creates_a_dataset_and_imports_a_file(new_page, screenshot, owner, team):
    page = new_page(owner)
    expect(page.get_by_role("heading", name="Alpha")).to_be_visible()
    page.get_by_role("link", name="Datasets", exact=True).click()
    page.get_by_label("Name").fill("support")
    page.get_by_role("button", name="Create dataset").click()
    expect(page.get_by_role("heading", name="support")).to_be_visible()
    expect(page.get_by_text("No examples match.")).to_be_visible()

    page.get_by_role("link", name="Import a file").first.click()
    page.set_input_files("#import-file", str(FIXTURE))
    page.get_by_role("button", name="Upload and import").click()
    page.wait_for_url(re.compile(r"/imports/\d+/$"))
    expect(page.locator("#job-status")).to_have_text(re.compile("succeeded", re.I))
    expect(page.locator("#job-counts")).to_contain_text("6 examples created")
    expect(page.locator("#job-progress")).to_have_attribute("value", "100")
    screenshot(page, "import-done")

    page.get_by_role("link", name="Open the dataset").click()
    expect(page.locator("table.examples tbody tr")).to_have_count(6)
    screenshot(page, "example-list")
    page.get_by_role("link", name="Overview").click()
    expect(page.get_by_role("heading", name="By status")).to_be_visible()
    screenshot(page, "dataset-overview")
    page.goto("/")
    expect(page.get_by_role("link", name="support")).to_be_visible()
    screenshot(page, "team-home")


def test_it_searches_and_filters_without_reloading(
    new_page, screenshot, owner, dataset, make_example
):
    make_example(dataset, owner, chat("How do I get a refund?"), status="needs_review")
    make_example(dataset, owner, chat("Refund after 30 days?"), status="approved")
    make_example(dataset, owner, chat("Where is my parcel?"), status="needs_review")
    page = new_page(owner)
    page.goto(f"/datasets/{dataset.pk}/")
    rows = page.locator("table.examples tbody tr")
    expect(rows).to_have_count(3)
    page.evaluate("window.__sameDocument = true")

    page.get_by_label("Search message text").fill("refund")
    expect(rows).to_have_count(2)
    expect(page).to_have_url(re.compile(r"search=refund"))
    page.get_by_label("Status", exact=True).select_option("needs_review")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("How do I get a refund?")
    expect(page.locator("#result-count")).to_contain_text("1 example")
    assert page.evaluate("window.__sameDocument === true")  # htmx swapped, no full reload
    screenshot(page, "example-list-filtered")

    page.get_by_label("Search message text").fill("zzzz")
    expect(page.get_by_text("No examples match.")).to_be_visible()


def test_it_edits_and_saves_an_example_with_live_checks(
    new_page, screenshot, owner, dataset, make_example
):
    from datasets_app.models import Example

    ex = make_example(dataset, owner, chat("What is 2+2?", "4"))
    page = new_page(owner)
    page.goto(f"/examples/{ex.pk}/edit/")
    answer = page.get_by_label("Turn 2 content")
    answer.fill("   ")
    # the live check flags the empty assistant turn on that turn, before anything is saved
    expect(page.locator("#findings-turn-1 .finding")).not_to_have_count(0)
    answer.fill("It is **4**. Typing ? and j here does nothing else.")
    expect(page.locator("#findings-turn-1 .finding")).to_have_count(0)
    expect(page.locator("#shortcut-help")).not_to_be_visible()

    page.get_by_role("button", name="Preview turn 2 as markdown").click()
    expect(page.get_by_role("region", name="Preview of turn 2").locator("strong")).to_have_text("4")
    page.get_by_label("Tags").fill("math, checked")
    page.get_by_label("Rating").select_option("5")
    page.get_by_label("Turn 2 content").press("Control+s")
    expect(page.get_by_role("status").filter(has_text="Saved")).to_be_visible()
    screenshot(page, "example-editor")

    ex = Example.objects.get(pk=ex.pk)
    assert ex.current_revision.number == 2 and ex.rating == 5
    assert ex.current_revision.messages[1]["content"].startswith("It is **4**.")
    assert sorted(t.name for t in ex.tags.all()) == ["checked", "math"]

    page.get_by_role("link", name="History").click()
    expect(page.locator("pre.diff ins").first).to_be_visible()
    screenshot(page, "example-history")


def keys_ready(page):
    """Wait for the (deferred) shortcut script of the page now shown."""
    page.locator("html[data-shortcuts=ready]").wait_for(state="attached")


def test_it_approves_three_with_the_keyboard(new_page, screenshot, owner, dataset, make_example):
    from datasets_app.models import Example

    ids = [
        make_example(dataset, owner, chat(f"question {i}"), status="needs_review").pk
        for i in range(4)
    ]
    page = new_page(owner)
    page.goto(f"/datasets/{dataset.pk}/review/")
    heading = page.locator("#review-title")
    expect(heading).to_have_text(f"Example {ids[0]}")
    keys_ready(page)
    page.keyboard.press("j")
    expect(heading).to_have_text(f"Example {ids[1]}")
    keys_ready(page)
    page.keyboard.press("k")
    expect(heading).to_have_text(f"Example {ids[0]}")
    keys_ready(page)
    page.keyboard.press("?")
    expect(page.get_by_role("dialog", name="Keyboard shortcuts")).to_be_visible()
    screenshot(page, "review-help")
    page.keyboard.press("Escape")
    for i in range(3):
        page.keyboard.press("a")
        expect(heading).to_have_text(f"Example {ids[i + 1]}")
        keys_ready(page)
    screenshot(page, "review")
    statuses = dict(Example.objects.values_list("pk", "status"))
    assert [statuses[i] for i in ids] == ["approved", "approved", "approved", "needs_review"]
    page.keyboard.press("e")
    page.wait_for_url(re.compile(rf"/examples/{ids[3]}/edit/$"))


def test_it_shows_a_failed_request_instead_of_swallowing_it(new_page, owner, dataset, make_example):
    from datasets_app.models import Example

    ex = make_example(dataset, owner, chat("Will this vanish?", "Yes"))
    page = new_page(owner)
    page.goto(f"/examples/{ex.pk}/edit/")
    Example.objects.filter(pk=ex.pk).delete()  # someone deletes it while the editor is open
    page.get_by_role("button", name="Preview turn 2 as markdown").click()
    expect(page.get_by_role("alert")).to_contain_text("Not found")
    expect(page.get_by_label("Turn 2 content")).to_have_value("Yes")  # the form is kept
