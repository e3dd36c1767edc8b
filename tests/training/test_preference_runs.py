"""DPO and ORPO runs in the app: launched through the API on a version of preference pairs,
refused with a clear 400 on a version without pairs, trained by the worker on CPU with the tiny
model, the reward metrics on the run and the lineage naming the preference version and hash."""

import pytest

from training.models import ModelArtifact, RunStatus, TrainingRun
from training.services import execute, runs

pytestmark = pytest.mark.django_db

SPLITS = ["train"] * 8 + ["validation"] * 2


def pair(i):
    a, b = i + 2, 3 * i + 1
    return (
        [
            {"role": "user", "content": f"What is {a} + {b}?"},
            {"role": "assistant", "content": f"{a} plus {b} is {a + b}."},
        ],
        {"rejected": [{"role": "assistant", "content": f"No idea, maybe {a * b + 7}?"}]},
    )


@pytest.fixture
def pair_version(make_example, owner, dataset):
    from datasets_app.services.versions import dataset_version_freeze

    for i, split in enumerate(SPLITS):
        messages, metadata = pair(i)
        make_example(dataset, owner, messages, metadata=metadata, split=split)
    return dataset_version_freeze(user=owner, dataset=dataset, name="pairs")


def url(version):
    return f"/api/v1/versions/{version.pk}/training-runs/"


def test_it_refuses_dpo_on_a_version_without_pairs(api_for, owner, version, training_settings):
    response = api_for(owner).post(url(version), {"method": "dpo"}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert "preference pairs" in str(body) and "metadata.rejected" in str(body)
    assert body["errors"][0]["path"] == "method"
    assert not TrainingRun.objects.exists()


def test_it_refuses_a_bad_dpo_setting_naming_the_field(
    api_for, owner, pair_version, training_settings
):
    payload = {"method": "dpo", "hyperparameters": {"dpo_loss_type": "hinge"}}
    response = api_for(owner).post(url(pair_version), payload, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["path"] == "hyperparameters.dpo_loss_type"


@pytest.mark.parametrize("method", ["dpo", "orpo"])
def test_it_trains_a_preference_run_and_records_its_lineage(
    method, api_for, owner, pair_version, training_settings, tiny_model_dir, monkeypatch
):
    monkeypatch.setattr(runs, "training_run_enqueue", lambda run_id: None)
    monkeypatch.setattr(execute, "model_evaluate_enqueue", lambda model_id: None)
    payload = {
        "method": method,
        "base_model": str(tiny_model_dir),
        "hyperparameters": {
            "epochs": 2,
            "batch_size": 4,
            "max_seq_len": 64,
            "learning_rate": 0.005,
            "eval_interval": 2,
            "checkpoint_interval": 0,
            "lora_r": 4,
            "lora_alpha": 8,
            "dpo_beta": 0.5,
        },
    }
    response = api_for(owner).post(url(pair_version), payload, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["method"] == method
    run = TrainingRun.objects.get(pk=response.json()["id"])
    execute.training_run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED, run.failure_reason
    assert run.plan["pairs"] == 8 and run.total_steps == 4
    assert {"reward_accuracy", "reward_margin", "rewards_chosen"} <= set(run.metrics[-1])
    assert run.evals and "eval_reward_accuracy" in run.evals[-1]
    model = ModelArtifact.objects.get(run=run)
    assert model.manifest["method"] == method
    assert model.manifest["lineage"]["dataset_version_id"] == pair_version.pk
    assert model.manifest["lineage"]["dataset_version_hash"] == pair_version.content_hash
    assert pair_version.content_hash in model.model_card
    # the run page charts the rewards, per step and on the validation pairs
    from django.test import Client

    browser = Client()
    browser.force_login(owner)
    html = browser.get(f"/runs/{run.pk}/").content.decode()
    assert "Reward accuracy" in html and "Reward margin" in html
    assert 'class="line-eval-chosen"' in html and 'class="line-rejected"' in html
    # the model is evaluated on the held-out pairs (no test split here: the validation pairs)
    from training.services import evaluation

    evaluation.model_evaluate(model_id=model.pk)
    model.refresh_from_db()
    scored = model.eval_results["preference"]
    assert model.eval_results["split"] == "validation" and scored["pairs"] == 2
    assert scored["method"] == method and 0.0 <= scored["reward_accuracy"] <= 1.0
    page = browser.get(f"/models/{model.pk}/").content.decode()
    assert "Held-out preference pairs" in page and 'data-pair-eval="reward_margin"' in page


def test_it_preflights_pairs_with_both_sides_dropped_pairs_and_the_reference_pass(
    api_for, owner, dataset, pair_version, make_example, training_settings, tiny_model_dir
):
    from datasets_app.services.versions import dataset_version_freeze

    messages, _ = pair(99)
    long_rejected = {"rejected": [{"role": "assistant", "content": "Well, " * 80}]}
    too_long = make_example(dataset, owner, messages, metadata=long_rejected, split="train")
    version = dataset_version_freeze(user=owner, dataset=dataset, name="pairs + long")
    query = {"base_model": str(tiny_model_dir), "max_seq_len": 64, "batch_size": 2}
    client = api_for(owner)
    answers = {
        method: client.get(
            f"/api/v1/versions/{version.pk}/training-preflight/", {**query, "method": method}
        )
        for method in ("lora", "dpo", "orpo")
    }
    assert all(r.status_code == 200 for r in answers.values()), answers["dpo"].json()
    dpo, orpo, sft = answers["dpo"].json(), answers["orpo"].json(), answers["lora"].json()
    assert dpo["pairs"] == 8 and dpo["sequences"] == 16
    assert dpo["dropped_count"] == 1
    dropped = dpo["dropped"][0]
    assert dropped["id"] == too_long.pk and dropped["reason"] == "too_long"
    assert dropped["rejected_length"] > 64 >= dropped["chosen_length"]
    # both sides are counted: more tokens than the chosen side alone (what SFT trains on)
    assert dpo["tokens"] > sft["tokens"] and sft["dropped_count"] == 0
    # DPO's reference: the adapter disabled, one extra forward (time grows, memory does not)
    assert dpo["reference_pass"]["kind"] == "adapter_disabled"
    assert 1.3 < dpo["reference_pass"]["time_factor"] < 1.6
    assert dpo["reference_pass"]["extra_memory_bytes"] == 0
    assert orpo["reference_pass"] == {**orpo["reference_pass"], "kind": "none", "time_factor": 1.0}
    assert dpo["estimate"]["seconds"] > orpo["estimate"]["seconds"]
    full = client.get(
        f"/api/v1/versions/{version.pk}/training-preflight/",
        {**query, "method": "dpo", "preference_weights": "full"},
    ).json()
    assert full["reference_pass"]["kind"] == "frozen_copy"
    assert full["reference_pass"]["extra_memory_bytes"] > 0


def test_it_shows_the_pair_preflight_on_the_train_page(
    client,
    owner,
    pair_version,
    training_settings,
    tiny_model_dir,
    django_capture_on_commit_callbacks,
):
    from finetunedb.actions.models import ActionJob
    from training.recipe.config import TrainConfig

    data = {
        k: v
        for k, v in {**TrainConfig.defaults(), "base_model": str(tiny_model_dir)}.items()
        if v is not False
    }
    data.update(lora_target_modules="q_proj, v_proj", max_seq_len=64, batch_size=2, method="dpo")
    client.force_login(owner)
    page = f"/versions/{pair_version.pk}/train/"
    with django_capture_on_commit_callbacks(execute=True):
        queued = client.post(page, {**data, "preflight": "1"})
    assert queued.status_code == 302
    job = ActionJob.objects.get(action="preflight")
    assert job.status == "succeeded", job.result
    html = client.get(f"{page}?preflight={job.pk}").content.decode()
    assert "Pairs kept" in html and "adapter disabled" in html
