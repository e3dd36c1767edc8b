"""The run and model pages in real Chromium (issue 16.9): the charts have axes and tick labels,
hovering a point shows its value (the single evaluation included), the ETA comes from the
server, and the model card is rendered as a table, not markdown source."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.test_xss_everywhere import purge_frozen_versions

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _manifest(version, run) -> dict:
    return {
        "method": "lora",
        "base_model": "HuggingFaceTB/SmolLM2-135M-Instruct",
        "weights_sha256": "ab" * 32,
        "seed": 42,
        "device": "cpu",
        "world_size": 1,
        "libraries": {"torch": "2.13.0", "transformers": "5.23.0", "peft": "0.21.2"},
        "lineage": {
            "dataset_version_number": version.number,
            "dataset_version_name": version.name,
            "dataset_version_hash": version.content_hash,
            "dataset_name": version.dataset.name,
            "name": f"{version.dataset.name} v{version.number} · run {run.pk}",
        },
        "metrics": {"steps": 3, "final": {"loss": 2.41}, "evals": [{"eval_loss": 2.52}]},
        "created": "2026-12-06T21:00:00+00:00",
        "config": {"lora_r": 16, "epochs": 1},
    }


@pytest.fixture
def runs_world(owner, dataset, make_example):
    from datasets_app.services.versions import dataset_version_freeze
    from training.models import ModelArtifact, TrainingRun
    from training.recipe.artifacts import model_card

    for i in range(6):
        split = "validation" if i == 5 else "train"
        messages = [
            {"role": "user", "content": f"What is {i} + {i}?"},
            {"role": "assistant", "content": f"{2 * i}."},
        ]
        make_example(dataset, owner, messages, split=split)
    version = dataset_version_freeze(
        user=owner, dataset=dataset, name="first cut", force=True, reason="test data"
    )
    metrics = [
        {
            "step": s,
            "loss": 3.2 - 0.25 * s,
            "lr": 2e-4 * (1 - s / 12),
            "tokens_per_s": 180.0 + s,
            "memory_mb": 1480.0 + 4 * s,
            "step_s": 40.0 if s == 1 else 12.0,
        }
        for s in range(1, 4)
    ]
    running = TrainingRun.objects.create(
        version=version,
        dataset_version_hash=version.content_hash,
        base_model="HuggingFaceTB/SmolLM2-135M-Instruct",
        config={"batch_size": 2, "eval_interval": 0},
        status="running",
        phase="training",
        step=3,
        total_steps=12,
        metrics=metrics,
        evals=[{"step": 3, "eval_loss": 2.52, "eval_s": 6.0}],
        plan={"validation_sequences": 1},
        log_tail=["21:00:00 training"],
    )
    done = TrainingRun.objects.create(
        version=version,
        dataset_version_hash=version.content_hash,
        base_model="HuggingFaceTB/SmolLM2-135M-Instruct",
        config={"batch_size": 2},
        status="succeeded",
        step=3,
        total_steps=3,
        metrics=metrics,
        evals=[{"step": 3, "eval_loss": 2.52}],
    )
    model = ModelArtifact.objects.create(
        run=done,
        path=f"runs/{done.pk}/model",
        weights_sha256="ab" * 32,
        manifest={"files": {}, "weights_file": ""},
        model_card=model_card(_manifest(version, done)),
        eval_status="failed",
        eval_error="not evaluated in this test",
    )
    yield {"running": running, "model": model, "version": version}
    purge_frozen_versions()


def test_the_run_page_charts_have_axes_and_values_on_hover(new_page, screenshot, owner, runs_world):
    page = new_page(owner)
    page.goto(f"/runs/{runs_world['running'].pk}/")
    charts = page.locator("#run-charts .run-chart")
    expect(charts).to_have_count(4)
    loss = charts.first
    expect(loss.locator(".chart-x text").first).to_have_text("0")
    expect(loss.locator(".chart-y text").first).to_be_visible()
    # 9 steps left at 12 s (the 40 s warm-up step left out) + the final evaluation at 6 s.
    expect(page.locator('[data-field="eta"]')).to_have_text("about 2 min left")
    # The single evaluation point is drawn; hovering it names its step and value.
    point = loss.locator("circle.pt-eval")
    expect(point).to_have_count(1)
    point.hover()
    tip = page.locator("#chart-tip")
    expect(tip).to_be_visible()
    expect(tip).to_have_text("step 3: eval loss 2.52")
    screenshot(page, "training-run")


def test_the_model_page_renders_the_card(new_page, screenshot, owner, runs_world):
    page = new_page(owner)
    model, version = runs_world["model"], runs_world["version"]
    page.goto(f"/models/{model.pk}/")
    card = page.locator(".model-card")
    expect(card.locator("table")).to_be_visible()
    row = card.locator("tr", has_text="dataset version").first
    expect(row.locator("td").nth(1)).to_have_text(f"v{version.number} (first cut)")
    expect(card).not_to_contain_text("|---|")
    lineage = page.get_by_role("link", name=re.compile(rf"^v{version.number} \(first cut\)$"))
    expect(lineage.first).to_have_attribute("href", f"/versions/{version.pk}/")
    screenshot(page, "training-model")
