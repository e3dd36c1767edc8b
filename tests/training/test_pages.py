"""Training pages and the model routes: the train form, the run and model pages, downloads with
path containment, roles on every new route."""

import pytest

from training.models import ModelArtifact, RunStatus, TrainingRun
from training.services import execute, preflight, runs

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


def test_it_shows_the_train_button_and_the_form_with_defaults(
    client, owner, teammate, version, training_settings
):
    client.force_login(owner)
    page = client.get(f"/versions/{version.pk}/")
    assert f'href="/versions/{version.pk}/train/"'.encode() in page.content
    form = client.get(f"/versions/{version.pk}/train/")
    assert form.status_code == 200
    assert b'name="lora_r" value="16"' in form.content
    assert b"LoRA rank" in form.content  # help text from TrainConfig
    client.force_login(teammate)
    assert (
        f"/versions/{version.pk}/train/".encode()
        not in client.get(f"/versions/{version.pk}/").content
    )
    assert client.get(f"/versions/{version.pk}/train/").status_code == 403


def test_it_shows_field_errors_and_a_preflight_then_launches(
    client,
    owner,
    version,
    training_settings,
    tiny_model_dir,
    monkeypatch,
    django_capture_on_commit_callbacks,
):
    from training.forms import TrainForm
    from training.recipe.config import TrainConfig

    monkeypatch.setattr(runs, "training_run_enqueue", lambda run_id: None)
    client.force_login(owner)
    data = {
        k: v
        for k, v in {**TrainConfig.defaults(), "base_model": str(tiny_model_dir)}.items()
        if v is not False
    }
    data["lora_target_modules"] = "q_proj, v_proj"
    data.update(max_seq_len=64, batch_size=2)
    assert set(data) - {"packing"} <= set(TrainForm().fields)

    bad = client.post(f"/versions/{version.pk}/train/", {**data, "lora_r": 0, "launch": "1"})
    assert bad.status_code == 400 and b"lora_r: 0 is out of range" in bad.content
    assert not TrainingRun.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        queued = client.post(f"/versions/{version.pk}/train/", {**data, "preflight": "1"})
    # At once the job's page; once the worker tokenized, it leads back to the form with figures.
    assert queued.status_code == 302 and queued["Location"].startswith("/actions/")
    done = client.get(queued["Location"])
    assert done.status_code == 302 and done["Location"].endswith("/train/?preflight=1")
    checked = client.get(done["Location"])
    assert checked.status_code == 200 and b"Pre-flight" in checked.content
    assert b"Trained tokens per epoch" in checked.content
    assert b'name="max_seq_len" value="64"' in checked.content  # the form as it was sent

    # The launch after it checks the budget on the pre-flight's figures: no second tokenizing.
    def tokenize_again(*args, **kwargs):
        raise AssertionError("the launch tokenized the split again")

    monkeypatch.setattr(preflight, "_report", tokenize_again)
    launched = client.post(f"/versions/{version.pk}/train/", {**data, "launch": "1"})
    run = TrainingRun.objects.get()
    assert launched.status_code == 302 and launched["Location"] == f"/runs/{run.pk}/"
    assert run.config["lora_target_modules"] == ["q_proj", "v_proj"]
    assert run.config["packing"] is True  # a checked box in the defaults


def test_it_renders_the_run_page_with_its_chart_and_log(client, teammate, trained):
    client.force_login(teammate)
    page = client.get(f"/runs/{trained.run_id}/")
    assert page.status_code == 200
    assert page.content.count(b"<polyline") >= 5
    assert b'class="line-train" points="' in page.content
    assert b"style=" not in page.content and b"<script>" not in page.content
    assert b"model saved" in page.content  # the log tail


def test_it_renders_the_model_page_and_the_lineage_everywhere(
    client, owner, trained, version, dataset
):
    client.force_login(owner)
    page = client.get(f"/models/{trained.pk}/")
    assert page.status_code == 200
    assert version.content_hash.encode() in page.content
    assert f"/api/v1/models/{trained.pk}/download/".encode() in page.content
    history = client.get(f"/datasets/{dataset.pk}/versions/")
    assert f'href="/models/{trained.pk}/"'.encode() in history.content
    example_id = version.entries.first().example_id
    example_page = client.get(f"/examples/{example_id}/")
    assert f'href="/models/{trained.pk}/"'.encode() in example_page.content


def test_it_downloads_the_adapter_as_an_attachment(api_for, owner, trained):
    response = api_for(owner).get(f"/api/v1/models/{trained.pk}/download/")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert "adapter_model.safetensors" in response["Content-Disposition"]
    import hashlib

    body = b"".join(response.streaming_content)
    assert hashlib.sha256(body).hexdigest() == trained.weights_sha256
    manifest = api_for(owner).get(
        f"/api/v1/models/{trained.pk}/download/", {"file": "manifest.json"}
    )
    assert manifest.status_code == 200


@pytest.mark.parametrize(
    "name",
    [
        "../model/manifest.json",
        "../../../../etc/passwd",
        "/etc/passwd",
        "weights/../../x",
        "%2e%2e/x",
        "a\x00b",
    ],
)
def test_it_refuses_file_names_outside_the_manifest(api_for, owner, trained, name):
    response = api_for(owner).get(f"/api/v1/models/{trained.pk}/download/", {"file": name})
    assert response.status_code == 404


@pytest.mark.parametrize("path", ["../../..", "/etc", "runs/../../outside"])
def test_it_refuses_a_model_folder_outside_the_models_folder(
    api_for, owner, trained, path, tmp_path, training_settings
):
    outside = training_settings.FINETUNEDB_MODELS_DIR.parent / "outside"
    outside.mkdir(exist_ok=True)
    (outside / "manifest.json").write_text("{}")
    ModelArtifact.objects.filter(pk=trained.pk).update(path=path)
    for name in (None, "manifest.json"):
        query = {"file": name} if name else {}
        response = api_for(owner).get(f"/api/v1/models/{trained.pk}/download/", query)
        assert response.status_code == 404


def test_it_compares_two_models(api_for, client, owner, trained, version, monkeypatch):
    run = trained.run
    other_run = TrainingRun.objects.create(
        version=version,
        dataset_version_hash=version.content_hash,
        base_model=run.base_model,
        config={**run.config, "lora_r": 8},
        status=RunStatus.SUCCEEDED,
    )
    other = ModelArtifact.objects.create(run=other_run, path="runs/x/model", weights_sha256="1")
    body = api_for(owner).get(f"/api/v1/models/{trained.pk}/compare/", {"against": other.pk}).json()
    assert body["config_difference"] == [{"field": "lora_r", "this": 4, "other": 8}]
    assert body["same_data"] is True
    assert body["versions_diff_url"] == f"/api/v1/versions/{version.pk}/diff/?against={version.pk}"
    client.force_login(owner)
    page = client.get(f"/models/{trained.pk}/compare/", {"against": other.pk})
    assert page.status_code == 200 and b"lora_r" in page.content


def test_it_forbids_annotators_every_training_action(
    api_for, client, teammate, trained, version, training_settings
):
    """Annotators read lineage but cannot launch, cancel, pre-flight, download or ask models."""
    api = api_for(teammate)
    forbidden = [
        ("post", f"/api/v1/versions/{version.pk}/training-runs/", {}),
        ("get", f"/api/v1/versions/{version.pk}/training-preflight/", None),
        ("post", f"/api/v1/versions/{version.pk}/training-preflight/", {}),
        ("post", f"/api/v1/training-runs/{trained.run_id}/cancel/", {}),
        ("get", f"/api/v1/models/{trained.pk}/download/", None),
        ("post", f"/api/v1/models/{trained.pk}/playground/", {"messages": []}),
    ]
    for method, path, body in forbidden:
        response = (
            getattr(api, method)(path, body, format="json") if body is not None else api.get(path)
        )
        assert response.status_code == 403, path
    allowed = [
        f"/api/v1/training-runs/{trained.run_id}/",
        f"/api/v1/models/{trained.pk}/",
        f"/api/v1/versions/{version.pk}/training-runs/",
        f"/api/v1/versions/{version.pk}/models/",
    ]
    for path in allowed:
        assert api.get(path).status_code == 200, path
    client.force_login(teammate)
    assert client.get(f"/versions/{version.pk}/train/").status_code == 403
    assert client.post(f"/runs/{trained.run_id}/cancel/").status_code == 403
    assert client.post(f"/models/{trained.pk}/", {"prompt": "hi"}).status_code == 403
