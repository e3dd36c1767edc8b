"""The blind pairwise review in real Chromium: from the compare page to the queue, judged with
the keyboard (a / b / t / s) by two reviewers, then the results and the saved pairs."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.test_xss_everywhere import purge_frozen_versions
from tests.evaluation.conftest import gsm_version, make_suite, suite  # noqa: F401
from tests.evaluation.test_pairwise_service import finished_run

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def purged():
    """The suite's frozen version must go before the transactional flush (it refuses DELETE)."""
    yield
    from evaluation.models import EvalRun, EvalSuite

    EvalRun.objects.all().delete()
    EvalSuite.objects.all().delete()
    purge_frozen_versions()


def keys_ready(page):
    page.locator("html[data-shortcuts=ready]").wait_for(state="attached")


def judge_all(page, keys):
    progress = page.locator("#pairwise-progress")
    for number, key in enumerate(keys, start=1):
        expect(progress).to_have_text(f"{number} of 5")
        expect(page.locator("#answer-a")).to_contain_text("answer")
        keys_ready(page)
        page.keyboard.press(key)
    expect(page.get_by_role("heading", name="Nothing left to judge")).to_be_visible()


def test_it_judges_a_blind_review_with_the_keyboard(
    purged,
    new_page,
    screenshot,
    owner,
    teammate,
    suite,  # noqa: F811
    dataset,
):
    from datasets_app.models import Example
    from evaluation.pairwise_models import PairwiseJudgment

    run, against = finished_run(suite, "tuned-model"), finished_run(suite, "base-model")
    page = new_page(owner)
    page.goto(f"/evals/runs/{run.pk}/compare/?against={against.pk}")
    page.get_by_role("button", name="Review blind").click()
    page.wait_for_url(re.compile(r"/evals/reviews/\d+/$"))
    queue = page.url
    # blind: the page names no model outside the answers
    body = page.locator("body").inner_text()
    assert "tuned-model" not in re.sub(r"(tuned|base)-model answer \d", "", body)
    keys_ready(page)
    page.keyboard.press("?")
    expect(page.get_by_role("dialog", name="Keyboard shortcuts")).to_contain_text("Tie")
    page.keyboard.press("Escape")
    expect(page.locator("#answer-b")).to_be_visible()
    screenshot(page, "pairwise-queue")
    judge_all(page, ["a", "b", "t", "s", "a"])
    assert sorted(
        PairwiseJudgment.objects.filter(reviewer=owner).values_list("choice", flat=True)
    ) == ["a", "a", "b", "skipped", "tie"]

    other = new_page(teammate)
    other.goto(queue)
    judge_all(other, ["a", "a", "a", "a", "a"])

    page.get_by_role("link", name="See the results").click()
    expect(page.locator("#pairwise-winrate")).to_contain_text("(n=9)")
    expect(page.get_by_text("Ties count as half a win")).to_be_visible()
    expect(page.locator("#pairwise-alpha")).to_contain_text("Krippendorff")
    expect(page.get_by_role("row", name=re.compile("alice and bob"))).to_be_visible()
    screenshot(page, "pairwise-results")
    page.get_by_label("Dataset").select_option(str(dataset.pk))
    page.get_by_role("button", name="Save as preference pairs").click()
    expect(
        page.get_by_text(re.compile(r"preference pair\(s\) saved to support-chats"))
    ).to_be_visible()
    assert Example.objects.filter(dataset=dataset, source_format="pairwise_review").exists()
