"""What the training pages tell a user (issue 16.9): charts with axes, ticks and a marker per
point, an ETA from measured step times, the model card rendered safely with the version's number,
and the pre-flight's calibrated range."""

import re

import pytest

from training.models import ModelArtifact, RunStatus, TrainingRun
from training.services import execute, runs

pytestmark = pytest.mark.django_db


@pytest.fixture
def trained(owner, version, training_settings, tiny_model_dir, tiny_hyperparameters, monkeypatch):
    monkeypatch.setattr(runs, "training_run_enqueue", lambda run_id: None)
    monkeypatch.setattr(execute, "model_evaluate_enqueue", lambda model_id: None)
    run = runs.training_run_create(
        user=owner,
        version=version,
        base_model=str(tiny_model_dir),
        hyperparameters={**tiny_hyperparameters, "epochs": 1},
    )
    execute.training_run_execute(run_id=run.pk)
    return ModelArtifact.objects.get(run=run)


def preflight_page(client, version, data, capture) -> str:
    """The train form with the pre-flight's figures, through its job (run at commit here)."""
    with capture(execute=True):
        queued = client.post(f"/versions/{version.pk}/train/", {**data, "preflight": "1"})
    assert queued.status_code == 302
    done = client.get(queued["Location"])
    assert done.status_code == 302
    page = client.get(done["Location"])
    assert page.status_code == 200
    return page.content.decode()


def test_it_draws_axes_ticks_and_every_point_on_the_run_page(client, teammate, trained):
    client.force_login(teammate)
    html = client.get(f"/runs/{trained.run_id}/").content.decode()
    run = trained.run
    assert html.count(">step</text>") == 4  # an x axis title per panel
    assert 'text-anchor="end">' in html  # y tick labels
    # One marker per train point and per evaluation, each with its value to hover.
    assert html.count('class="pt pt-train"') == len(run.metrics)
    assert html.count('class="pt pt-eval"') == len(run.evals) >= 1
    last_eval = run.evals[-1]
    assert f"step {last_eval['step']}: eval loss {last_eval['eval_loss']:.4g}" in html
    assert "style=" not in html and "<script>" not in html  # CSP: nothing inline


def test_it_shows_the_time_left_from_measured_steps(client, api_for, owner, version, trained):
    run = TrainingRun.objects.get(pk=trained.run_id)
    TrainingRun.objects.filter(pk=run.pk).update(
        status=RunStatus.RUNNING,
        step=2,
        total_steps=12,
        metrics=[{"step": 1, "step_s": 60.0}, {"step": 2, "step_s": 30.0}],
        evals=[],
        plan={"validation_sequences": 0},
    )
    client.force_login(owner)
    page = client.get(f"/runs/{run.pk}/").content.decode()
    # 10 steps left at 30 s: the slow first step is not counted.
    assert re.search(r'data-field="eta">about 5 min left<', page)
    body = api_for(owner).get(f"/api/v1/training-runs/{run.pk}/").json()
    assert body["eta_seconds"] == 300.0
    TrainingRun.objects.filter(pk=run.pk).update(status=RunStatus.SUCCEEDED)
    assert api_for(owner).get(f"/api/v1/training-runs/{run.pk}/").json()["eta_seconds"] is None


def test_it_renders_the_model_card_as_safe_html_with_the_version_number(
    client, owner, trained, version
):
    card = (execute.models_dir() / trained.path / "README.md").read_text()
    assert f"| dataset version | v{version.number} |" in card
    assert f"| dataset version | {version.pk} |" not in card or version.pk == version.number
    client.force_login(owner)
    ModelArtifact.objects.filter(pk=trained.pk).update(
        model_card=card + "\n<script>alert(1)</script> [x](javascript:alert(1))\n"
    )
    html = client.get(f"/models/{trained.pk}/").content.decode()
    card_html = html.split('class="model-card">', 1)[1].split("</section>", 1)[0]
    assert "<table>" in card_html and "<td>dataset version</td>" in card_html
    assert f"<td>v{version.number}</td>" in card_html
    assert "| dataset version |" not in card_html  # rendered, not raw markdown
    assert "<script>" not in card_html and 'href="javascript:' not in card_html
    assert "<h1>" not in card_html and "<h3>" in card_html  # under the page's own headings
    assert "&lt;script&gt;" in card_html
    assert f'href="/versions/{version.pk}/">v{version.number}</a>' in html


def test_it_names_the_version_in_the_card_by_number_and_name(
    owner, dataset, make_example, training_settings, tiny_model_dir, monkeypatch
):
    from datasets_app.services.versions import dataset_version_freeze
    from tests.training.conftest import SPLITS, chat

    for i, split in enumerate(SPLITS):
        make_example(dataset, owner, chat(i), split=split)
    version = dataset_version_freeze(user=owner, dataset=dataset, name="first | cut")
    monkeypatch.setattr(runs, "training_run_enqueue", lambda run_id: None)
    monkeypatch.setattr(execute, "model_evaluate_enqueue", lambda model_id: None)
    run = runs.training_run_create(
        user=owner,
        version=version,
        base_model=str(tiny_model_dir),
        hyperparameters={"max_steps": 1, "batch_size": 2, "max_seq_len": 64, "lora_r": 4},
    )
    execute.training_run_execute(run_id=run.pk)
    card = ModelArtifact.objects.get(run=run).model_card
    assert f"| dataset version | v{version.number} (first \\| cut) |" in card
    assert f"| dataset | {dataset.name} |" in card


def test_the_preflight_shows_a_range_and_says_whether_it_is_calibrated(
    client, owner, version, trained, tiny_model_dir, django_capture_on_commit_callbacks
):
    from training.recipe.config import TrainConfig

    client.force_login(owner)
    data = {
        k: v
        for k, v in {**TrainConfig.defaults(), "base_model": str(tiny_model_dir)}.items()
        if v is not False
    }
    data.update(max_seq_len=64, batch_size=2, lora_r=4, lora_target_modules="q_proj, v_proj")
    html = preflight_page(client, version, data, django_capture_on_commit_callbacks)
    assert re.search(r'data-estimate="time">about [\d.]+(–[\d.]+)? (s|min)', html)
    assert re.search(r'data-estimate="memory">about [\d.]+–[\d.]+ (MB|GB)', html)
    assert "corrected by 1 finished run of this model on this device" in html


def test_the_first_preflight_says_its_range_is_uncalibrated(
    client, owner, version, training_settings, tiny_model_dir, django_capture_on_commit_callbacks
):
    from training.recipe.config import TrainConfig

    client.force_login(owner)
    data = {
        k: v
        for k, v in {**TrainConfig.defaults(), "base_model": str(tiny_model_dir)}.items()
        if v is not False
    }
    data.update(max_seq_len=64, batch_size=2, lora_r=4, lora_target_modules="q_proj, v_proj")
    html = preflight_page(client, version, data, django_capture_on_commit_callbacks)
    assert "uncalibrated: no finished run of this model on this device yet" in html
