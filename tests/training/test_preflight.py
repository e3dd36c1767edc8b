"""Pre-flight figures with the base model's own tokenizer, and the token preview."""

import pytest

from training.services.preflight import training_preflight

pytestmark = pytest.mark.django_db


def test_it_counts_tokens_and_steps_and_lists_dropped_examples(
    api_for,
    owner,
    dataset,
    make_version,
    training_settings,
    tiny_model_dir,
    tokenizer,
    make_example,
):
    long = [
        {"role": "user", "content": "Tell me everything. " * 40},
        {"role": "assistant", "content": "No."},
    ]
    version, examples = make_version(dataset)
    from datasets_app.services.versions import dataset_version_freeze

    too_long = make_example(dataset, owner, long, split="train")
    version = dataset_version_freeze(user=owner, dataset=dataset, name="v2")
    response = api_for(owner).get(
        f"/api/v1/versions/{version.pk}/training-preflight/",
        {"base_model": str(tiny_model_dir), "max_seq_len": 64, "batch_size": 2, "epochs": 3},
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["examples"] == 8 and body["dropped_count"] == 1
    assert body["dropped"] == [
        {"id": too_long.pk, "length": body["dropped"][0]["length"], "reason": "too_long"}
    ]
    assert body["dropped"][0]["length"] > 64
    rendered = [
        tokenizer.apply_chat_template(e.current_revision.messages, tokenize=False)
        for e in examples[:8]
    ]
    expected = sum(len(tokenizer(t, add_special_tokens=False)["input_ids"]) for t in rendered)
    # Counted with the base model's tokenizer and template; the recipe tokenizes the trained spans
    # apart from the rest, which may split a token at a span boundary.
    assert abs(body["tokens"] - expected) <= 2 * 8
    assert body["total_steps"] == body["steps_per_epoch"] * 3
    estimate = body["estimate"]
    assert estimate["source"] == "flops" and estimate["device"] == "cpu"
    assert estimate["seconds"] > 0 and estimate["memory_bytes"] > 0
    assert estimate["parameters"] > 0 and 0 < estimate["trainable_parameters"]


def test_it_estimates_less_memory_with_gradient_checkpointing_on_cpu(
    owner, version, training_settings, tiny_model_dir
):
    def estimate(setting):
        report = training_preflight(
            version=version,
            base_model=str(tiny_model_dir),
            method="lora",
            hyperparameters={"gradient_checkpointing": setting, "max_seq_len": 64},
        )
        return report["estimate"]

    auto, on, off = estimate("auto"), estimate("on"), estimate("off")
    assert auto["device"] == "cpu" and auto["gradient_checkpointing"] is True
    assert auto["memory_bytes"] == on["memory_bytes"] < off["memory_bytes"]
    assert off["gradient_checkpointing"] is False


def test_it_says_a_run_would_fail_under_the_error_policy(
    owner, version, training_settings, tiny_model_dir
):
    report = training_preflight(
        version=version,
        base_model=str(tiny_model_dir),
        hyperparameters={"max_seq_len": 16, "overlength": "error"},
    )
    assert report["would_fail"] and report["examples"] == 0


def test_it_uses_measured_throughput_from_earlier_runs(
    owner, version, training_settings, tiny_model_dir
):
    from training.models import RunStatus, TrainingRun

    TrainingRun.objects.create(
        version=version,
        dataset_version_hash=version.content_hash,
        base_model=str(tiny_model_dir),
        config={},
        status=RunStatus.SUCCEEDED,
        device="cpu",
        metrics=[{"step": i, "tokens_per_s": 100.0 * i} for i in range(1, 5)],
    )
    report = training_preflight(version=version, base_model=str(tiny_model_dir))
    assert report["estimate"]["source"] == "measured"
    assert report["estimate"]["tokens_per_s"] == 350.0


def test_it_answers_400_for_bad_preflight_values(api_for, owner, version, training_settings):
    response = api_for(owner).post(
        f"/api/v1/versions/{version.pk}/training-preflight/",
        {"hyperparameters": {"batch_size": 0}},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["path"] == "hyperparameters.batch_size"


def test_it_previews_the_trained_tokens_of_an_example(
    api_for, teammate, dataset, make_version, training_settings, tiny_model_dir, client
):
    version, examples = make_version(dataset)
    example = examples[0]
    response = api_for(teammate).get(
        f"/api/v1/versions/{version.pk}/training-preview/",
        {"example": example.pk, "base_model": str(tiny_model_dir)},
    )
    assert response.status_code == 200, response.json()
    tokens = response.json()["tokens"]
    trained = "".join(t["text"] for t in tokens if t["trained"])
    # Only the answer and its end-of-turn token; SmolLM2's template adds its default system turn.
    assert trained == example.current_revision.messages[-1]["content"] + "<|im_end|>"
    assert "".join(t["text"] for t in tokens).startswith("<|im_start|>system\n")

    client.force_login(teammate)
    page = client.get(
        f"/versions/{version.pk}/preview/",
        {"example": example.pk, "base_model": str(tiny_model_dir)},
    )
    assert page.status_code == 200
    assert b'class="tok tok-trained"' in page.content
    assert client.get(f"/versions/{version.pk}/preview/", {"example": 999999}).status_code == 404


def test_it_escapes_example_text_in_the_preview(
    owner, dataset, make_version, training_settings, tiny_model_dir, client, make_example
):
    from datasets_app.services.versions import dataset_version_freeze

    example = make_example(
        dataset,
        owner,
        [
            {"role": "user", "content": "<script>alert(1)</script>"},
            {"role": "assistant", "content": "ok"},
        ],
    )
    version = dataset_version_freeze(user=owner, dataset=dataset, name="x")
    client.force_login(owner)
    page = client.get(
        f"/versions/{version.pk}/preview/",
        {"example": example.pk, "base_model": str(tiny_model_dir)},
    )
    view = page.content.split(b'class="token-view"')[1]
    assert b"<script" not in view and b"&lt;/" in view
