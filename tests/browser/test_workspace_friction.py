"""Issue 16 items 6, 7, 8 and 10 in real Chromium, with screenshots of the changed pages:
import straight into review, retry a failed import, the empty review queue, the overview's
blocker, the version diff in words, distinct token names."""

import json
import re

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def chat(question, answer="ok"):
    return [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]


def _jsonl(rows):
    return "".join(json.dumps(r) + "\n" for r in rows).encode()


def test_it_imports_into_review_and_retries_a_failed_import(
    new_page, screenshot, owner, dataset, tmp_path
):
    from datasets_app.models import Example

    good = [{"prompt": f"What is {i}+{i}?", "completion": str(2 * i)} for i in range(3)]
    path = tmp_path / "sums.jsonl"
    path.write_bytes(_jsonl(good) + b'{"prompt": "What is 9+9?", "completion": 18}\n')

    page = new_page(owner)
    page.goto(f"/datasets/{dataset.pk}/review/")
    expect(page.get_by_role("heading", name="Nothing to review")).to_be_visible()
    page.goto(f"/datasets/{dataset.pk}/import/")
    page.set_input_files("#import-file", str(path))
    page.get_by_label("Imported examples start as").select_option("needs_review")
    screenshot(page, "import-form-status")
    page.get_by_role("button", name="Upload and import").click()
    page.wait_for_url(re.compile(r"/imports/\d+/$"))
    expect(page.locator("#job-status")).to_have_text(re.compile("failed", re.I))
    expect(page.locator("#job-failure")).to_contain_text("skipping the invalid lines")
    expect(page.locator("body")).not_to_contain_text("skip_invalid")
    screenshot(page, "import-failed-retry")

    page.get_by_role("button", name="Retry skipping invalid rows").click()
    expect(page.locator("#job-status")).to_have_text(re.compile("succeeded", re.I))
    expect(page.locator("#job-counts")).to_contain_text("3 examples created")
    assert set(Example.objects.values_list("status", flat=True)) == {"needs_review"}

    page.goto(f"/datasets/{dataset.pk}/review/")
    expect(page.get_by_text("1 of 3 waiting")).to_be_visible()


def test_an_empty_review_queue_says_what_to_do(new_page, screenshot, owner, dataset, make_example):
    for i in range(4):
        make_example(dataset, owner, chat(f"draft question {i}"))
    page = new_page(owner)
    page.goto(f"/datasets/{dataset.pk}/review/")
    expect(
        page.get_by_role("heading", name="Nothing needs review: 4 examples are Draft")
    ).to_be_visible()
    screenshot(page, "review-empty-drafts")
    page.get_by_role("link", name="the list of drafts").click()
    expect(page).to_have_url(re.compile(r"status=draft"))
    expect(page.locator("table.examples tbody tr")).to_have_count(4)


def test_the_overview_shows_the_blocking_error_first(
    new_page, screenshot, owner, dataset, make_example
):
    from datasets_app.checks import RULES
    from datasets_app.models import CheckResult

    examples = [make_example(dataset, owner, chat(f"q{i}")) for i in range(10)]
    CheckResult.objects.filter(dataset=dataset).delete()
    warnings = [r for r, rule in RULES.items() if rule.severity == "warning"][:9]
    for n, rule_id in enumerate(warnings):
        CheckResult.objects.bulk_create(
            CheckResult(
                dataset=dataset, example=e, rule_id=rule_id, severity="warning", message="m"
            )
            for e in examples[: 10 - n]
        )
    CheckResult.objects.create(
        dataset=dataset, example=examples[0], rule_id="empty_content", severity="error", message="m"
    )
    page = new_page(owner)
    page.goto(f"/datasets/{dataset.pk}/overview/")
    checks = page.locator("section.card").filter(
        has=page.get_by_role("heading", name="Checks", exact=True)
    )
    first = checks.locator("tbody tr").first
    expect(first).to_contain_text("Empty content")
    expect(first).to_contain_text("blocks freezing")
    expect(page.get_by_role("link", name="and 2 more checks")).to_be_visible()
    screenshot(page, "overview-errors-first")


@pytest.fixture
def purged_versions():
    # frozen versions refuse the DELETE of the flush between transactional tests
    from tests.datasets_app.versions.conftest import purge_versions

    yield
    purge_versions()


def test_the_version_diff_reads_in_words(
    new_page, screenshot, owner, dataset, make_example, purged_versions
):
    from datasets_app.services.examples import example_update
    from datasets_app.services.versions import dataset_version_freeze

    ex = make_example(dataset, owner, chat("What is 2+2?", "4"), split="train")
    make_example(dataset, owner, chat("Capital of France?", "Paris"), split="train")
    v1 = dataset_version_freeze(
        user=owner, dataset=dataset, name="first", force=True, reason="a small demo set"
    )
    ex.refresh_from_db()
    example_update(
        user=owner,
        example=ex,
        expected_revision=ex.revision,
        changes={"messages": chat("What is 2+2?", "It is four, exactly four.")},
    )
    make_example(dataset, owner, chat("A new question", "A new answer"), split="test")
    v2 = dataset_version_freeze(
        user=owner, dataset=dataset, name="second", force=True, reason="a small demo set"
    )
    page = new_page(owner)
    page.goto(f"/versions/{v2.pk}/diff/?against={v1.pk}")
    expect(page.get_by_role("cell", name="Examples in Test")).to_be_visible()
    expect(page.get_by_text("Turn 2 · assistant · changed")).to_be_visible()
    expect(page.locator("body")).not_to_contain_text("token_stats")
    screenshot(page, "version-diff-statistics")


def test_tokens_are_listed_with_distinct_names(new_page, screenshot, owner, client):
    for _ in range(2):
        client.post(
            "/api/v1/auth/token/",
            {"username": owner.username, "password": "correct horse battery staple"},
            content_type="application/json",
        )
    page = new_page(owner)
    page.goto("/tokens/")
    page.get_by_label("Token name").fill("laptop")
    page.get_by_role("button", name="Create token").click()
    expect(page.get_by_text("Copy your new token “laptop” now")).to_be_visible()
    expect(page.get_by_role("cell", name=re.compile(r"^API token .* \(2\)$"))).to_be_visible()
    screenshot(page, "api-tokens")


def test_the_whitespace_fix_preview_shows_the_whitespace(
    new_page, screenshot, owner, dataset, make_example
):
    make_example(
        dataset,
        owner,
        [
            {"role": "user", "content": "Capital of France?  "},
            {"role": "assistant", "content": "  Paris\t\n"},
        ],
    )
    page = new_page(owner)
    page.goto(f"/datasets/{dataset.pk}/checks/fixes/?fix=trim_whitespace")
    expect(page.get_by_role("heading", name="Preview fixes")).to_be_visible(timeout=20_000)
    before = page.locator("pre.fix-before").last
    expect(before).to_have_text("··Paris→↵\n")
    expect(before.locator("mark.ws-changed")).to_have_count(2)
    expect(page.locator("pre.fix-after").last).to_have_text("Paris")
    screenshot(page, "fix-preview-whitespace")


def test_overview_histograms_spread_a_long_tail(new_page, screenshot, owner, dataset):
    import random

    from datasets_app import canonical
    from datasets_app.services.checks import dataset_checks_run
    from datasets_app.services.example_rows import examples_insert_new

    rng = random.Random(7)
    rows = []
    for i in range(300):
        # answers of a few words to a few thousand, as real files have them
        words = max(1, min(6000, int(rng.lognormvariate(3.5, 1.1))))
        messages = chat(f"question {i}", " ".join(["word"] * words) + f" {i}")
        rows.append(({"messages": messages}, "openai", canonical.content_hash(messages, None)))
    from django.db import transaction

    with transaction.atomic():
        examples_insert_new(dataset_id=dataset.pk, user_id=owner.pk, rows=rows, count=len(rows))
    dataset_checks_run(dataset_id=dataset.pk, full=True)

    page = new_page(owner)
    page.goto(f"/datasets/{dataset.pk}/overview/")
    chart = page.locator("figure.histogram").filter(has_text="Assistant tokens")
    expect(chart).to_contain_text("bins widen with the value")
    bars = chart.locator("rect.bar")
    heights = [float(bars.nth(i).get_attribute("height")) for i in range(bars.count())]
    assert sum(1 for h in heights if h > 0) >= 5, heights
    screenshot(page, "overview-histograms-skewed")
