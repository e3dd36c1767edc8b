"""Issue 16 pages that had no screenshot yet, in real Chromium: the review queue's count that
arrives after the page (16.2), the secret and cut-off findings on the checks page and on the
example (16.4, 16.5), the column mapping a CSV with unknown columns is offered (16.10), and a
run launched without a pre-flight that the worker failed at start for its budget (16.3)."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.test_xss_everywhere import purge_frozen_versions
from tests.datasets_app.test_checks_secrets_and_truncation import CUT, PASSWORD, fill
from tests.training.conftest import tiny_hyperparameters, training_settings  # noqa: F401
from tests.training.recipe.conftest import tiny_model_dir, tokenizer  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def chat(question, answer="ok"):
    return [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]


def test_the_review_queue_count_arrives_after_the_page(
    new_page, screenshot, owner, dataset, make_example
):
    ids = [
        make_example(dataset, owner, chat(f"Is {i} even?", "Yes."), status="needs_review").pk
        for i in range(4)
    ]
    page = new_page(owner)
    page.goto(f"/datasets/{dataset.pk}/review/?at={ids[2]}")
    expect(page.locator("#review-count")).to_have_text("3 of 4 waiting")
    screenshot(page, "review-queue-count")


def test_the_checks_page_shows_secret_and_cut_off_findings_masked(
    new_page, screenshot, owner, dataset, make_example, django_capture_on_commit_callbacks
):
    from datasets_app.models import CheckResult

    answer = f'Set it in settings.py:\n\nDB_PASSWORD = "{PASSWORD}"\n\nThen restart.'
    fill(dataset, owner, make_example, django_capture_on_commit_callbacks, [answer, CUT])
    page = new_page(owner)
    page.goto(f"/datasets/{dataset.pk}/checks/")
    expect(page.get_by_text("Answer looks cut off").first).to_be_visible()
    expect(page.locator("body")).not_to_contain_text(PASSWORD)
    screenshot(page, "checks-secret-and-truncation")
    secret = CheckResult.objects.get(dataset=dataset, rule_id="possible_secret")
    page.goto(f"/examples/{secret.example_id}/")
    expect(page.get_by_text(re.compile(r"Tq7… \(12 chars\)")).first).to_be_visible()
    screenshot(page, "example-possible-secret")


def test_a_csv_with_unknown_columns_is_offered_a_column_mapping(
    new_page, screenshot, owner, dataset, tmp_path
):
    path = tmp_path / "table.csv"
    path.write_bytes(b"query,reply\nhi,hello\nbye,see you\n")
    page = new_page(owner)
    page.goto(f"/datasets/{dataset.pk}/import/")
    page.set_input_files("#import-file", str(path))
    page.get_by_role("button", name="Upload and import").click()
    page.wait_for_url(re.compile(r"/imports/\d+/$"))
    expect(page.locator("body")).to_contain_text("The columns were not recognised")
    expect(page.locator("body")).to_contain_text('"prompt": "query"')
    screenshot(page, "import-csv-column-mapping")


@pytest.fixture
def frozen(owner, dataset, make_example):
    from datasets_app.services.versions import dataset_version_freeze

    for i in range(6):
        split = "validation" if i == 5 else "train"
        make_example(dataset, owner, chat(f"What is {i} + {i}?", f"{2 * i}."), split=split)
    yield dataset_version_freeze(
        user=owner, dataset=dataset, name="first cut", force=True, reason="test data"
    )
    purge_frozen_versions()


def test_a_run_over_the_budget_fails_at_start_with_the_reason(
    new_page,
    screenshot,
    owner,
    frozen,
    training_settings,  # noqa: F811
    tiny_model_dir,  # noqa: F811
    tiny_hyperparameters,  # noqa: F811
):
    """Launched without a pre-flight, the request does not tokenize: the run is queued and the
    (eager) worker checks the budget when it takes it."""
    from training.models import RunStatus
    from training.services.runs import training_run_create

    training_settings.FINETUNEDB_TRAINING_MAX_MEMORY_BYTES = 1024**2
    run = training_run_create(
        user=owner,
        version=frozen,
        base_model=str(tiny_model_dir),
        hyperparameters=tiny_hyperparameters,
    )
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED
    page = new_page(owner)
    page.goto(f"/runs/{run.pk}/")
    expect(page.locator("body")).to_contain_text("This run does not fit the training worker")
    screenshot(page, "training-run-over-budget")
