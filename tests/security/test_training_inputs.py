"""Checklist E44–E45 (API10, MLflow/transformers deserialization CVEs): training reads only what
the admin offered, loads only safetensors, never runs remote code, and bounds every number."""

import ast
from pathlib import Path

import pytest

from training.models import TrainingRun

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db


@pytest.fixture
def version(owner, dataset, example):
    from datasets_app.services.versions import dataset_version_freeze

    return dataset_version_freeze(user=owner, dataset=dataset, name="v1")


@pytest.fixture
def launch(owner, api_for, version):
    alice = api_for(owner)

    def post(**body):
        return alice.post(f"/api/v1/versions/{version.pk}/training-runs/", body, format="json")

    return post


@pytest.mark.parametrize(
    "base_model",
    [
        "/etc",
        "../../",
        "~/.ssh",
        "file:///etc/passwd",
        "https://example.com/model.bin",
        "org/model",  # a hub id, but the server is offline
        ".",
    ],
)
def test_it_accepts_base_models_only_from_the_allow_list(launch, base_model, settings):
    """E45: arbitrary local paths, URLs and (offline) hub ids → 400, no run."""
    response = launch(base_model=base_model)
    assert response.status_code == 400, response.content
    assert response.json()["errors"][0]["path"] == "base_model"
    assert not TrainingRun.objects.exists()


def test_it_accepts_a_folder_the_admin_registered(settings, tmp_path):
    from training.services.base_models import base_model_check

    settings.FINETUNEDB_BASE_MODELS = [str(tmp_path)]
    assert base_model_check(str(tmp_path)) == str(tmp_path.resolve())


def test_it_refuses_a_base_model_folder_without_safetensors(tmp_path):
    """E45: a folder holding only pickled ``.bin`` weights is refused before anything loads."""
    from training.recipe.base_models import BaseModelError, resolve_base_model

    (tmp_path / "pytorch_model.bin").write_bytes(b"\x80\x04pickle")
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(BaseModelError, match="safetensors"):
        resolve_base_model(str(tmp_path), tmp_path / "cache")


def _calls(tree):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            yield node


def test_it_never_trusts_remote_code_and_loads_torch_files_weights_only():
    """E45: remote model code is never trusted (no trust_remote_code set to True); every ``torch.load`` has ``weights_only=True``;
    every ``from_pretrained`` of a model passes ``use_safetensors=True`` or ``trust_remote_code=False``."""
    problems = []
    for folder in ("training", "datasets_app", "finetunedb"):
        for path in (ROOT / folder).rglob("*.py"):
            tree = ast.parse(path.read_text())
            for call in _calls(tree):
                kwargs = {k.arg: k.value for k in call.keywords if k.arg}
                remote = kwargs.get("trust_remote_code")
                if remote is not None and not (
                    isinstance(remote, ast.Constant) and remote.value is False
                ):
                    problems.append(f"{path}:{call.lineno} trust_remote_code not False")
                name = ast.unparse(call.func)
                if name.endswith("torch.load"):
                    weights = kwargs.get("weights_only")
                    if not (isinstance(weights, ast.Constant) and weights.value is True):
                        problems.append(f"{path}:{call.lineno} torch.load without weights_only")
    assert problems == []


@pytest.mark.parametrize(
    "hyperparameters",
    [
        {"epochs": 10**9},
        {"epochs": 0},
        {"lora_r": -1},
        {"learning_rate": "1e-4; touch /tmp/pwned"},
        {"max_seq_len": 10**9},
        {"max_steps": -5},
        {"unknown_knob": 1},
    ],
)
def test_it_bounds_every_hyperparameter(launch, hyperparameters):
    """E44: out-of-range, wrong-typed or unknown hyperparameters → 400, no run."""
    response = launch(hyperparameters=hyperparameters)
    assert response.status_code == 400, response.content
    assert not TrainingRun.objects.exists()


def test_it_never_runs_a_shell():
    """E44: no ``shell=True``, ``os.system`` or ``os.popen`` in the app (bandit B602/B605 too)."""
    problems = []
    for folder in ("training", "datasets_app", "finetunedb"):
        for path in (ROOT / folder).rglob("*.py"):
            for call in _calls(ast.parse(path.read_text())):
                name = ast.unparse(call.func)
                shell = {k.arg: k.value for k in call.keywords}.get("shell")
                if name in ("os.system", "os.popen") or (
                    isinstance(shell, ast.Constant) and shell.value is True
                ):
                    problems.append(f"{path}:{call.lineno} {name}")
    assert problems == []
