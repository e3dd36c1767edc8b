"""Fixtures for the training app tests: the recipe's tiny model registered as an allowed local
base model, a frozen version with train/validation/test splits, and a models folder per test.

Nothing here imports Django at module import time: the recipe tests below this folder run with
``-p no:django``.
"""

from __future__ import annotations

import pytest

from tests.training.recipe.conftest import records, tiny_model_dir, tokenizer  # noqa: F401

SPLITS = ["train"] * 8 + ["validation"] * 2 + ["test"] * 2


def chat(i: int) -> list[dict]:
    a, b = i + 2, 3 * i + 1
    return [
        {"role": "user", "content": f"What is {a} + {b}?"},
        {"role": "assistant", "content": f"{a} plus {b} is {a + b}."},
    ]


@pytest.fixture
def training_settings(settings, tmp_path, tiny_model_dir):  # noqa: F811
    settings.FINETUNEDB_MODELS_DIR = tmp_path / "models"
    settings.FINETUNEDB_BASE_MODELS = [str(tiny_model_dir)]
    settings.FINETUNEDB_TRAINING_DEVICE = "cpu"
    settings.FINETUNEDB_EVAL_SAMPLES = 1
    settings.FINETUNEDB_EVAL_MAX_NEW_TOKENS = 4
    settings.FINETUNEDB_PLAYGROUND_MAX_NEW_TOKENS = 4
    return settings


@pytest.fixture
def tiny_hyperparameters():
    """A run of a few steps on the tiny model that checkpoints and evaluates."""
    return {
        "epochs": 2,
        "batch_size": 2,
        "max_seq_len": 64,
        "learning_rate": 0.01,
        "eval_interval": 2,
        "checkpoint_interval": 2,
        "lora_r": 4,
        "lora_alpha": 8,
    }


@pytest.fixture
def make_version(make_example, owner):
    def make(dataset, splits=SPLITS):
        from datasets_app.services.versions import dataset_version_freeze

        examples = [
            make_example(dataset, owner, chat(i), split=split) for i, split in enumerate(splits)
        ]
        version = dataset_version_freeze(user=owner, dataset=dataset, name="v1")
        return version, examples

    return make


@pytest.fixture
def version(make_version, dataset):
    return make_version(dataset)[0]


@pytest.fixture
def curator(make_user, team):
    from finetunedb.teams.models import Membership

    user = make_user("dana")
    Membership.objects.create(team=team, user=user, role="curator")
    return user


@pytest.fixture
def queued_run(
    owner,
    version,
    training_settings,
    tiny_model_dir,  # noqa: F811
    tiny_hyperparameters,
    monkeypatch,
):
    """``make(**hyperparameters)``: a queued run of the tiny model on ``version``, which the test
    executes itself (nothing is enqueued, evaluation included)."""
    from training.services import execute, runs

    monkeypatch.setattr(runs, "training_run_enqueue", lambda run_id: None)
    monkeypatch.setattr(execute, "model_evaluate_enqueue", lambda model_id: None)

    def make(**overrides):
        return runs.training_run_create(
            user=owner,
            version=version,
            base_model=str(tiny_model_dir),
            hyperparameters={**tiny_hyperparameters, **overrides},
        )

    return make


@pytest.fixture
def cancel_at_step(monkeypatch):
    """``arm(n)``: the run's cancel flag is set once it reports step ``n``, as a user pressing
    Cancel then would; the reporter polls it at once."""
    from training.models import TrainingRun
    from training.services import reporter

    def arm(n: int) -> None:
        original = reporter.RunReporter.on_step

        def on_step(self, step, metrics):
            original(self, step, metrics)
            if step == n:
                TrainingRun.objects.filter(pk=self.run_id).update(cancel_requested=True)
                self._last_cancel_poll = 0.0

        monkeypatch.setattr(reporter.RunReporter, "on_step", on_step)

    return arm


def purge_training_and_versions() -> None:
    """Transactional tests leave frozen versions, which refuse DELETE (and so the test database's
    flush on SQLite); runs and models point at them, so they go first."""
    from training.models import ModelArtifact, PlaygroundRequest, TrainingRun

    PlaygroundRequest.objects.all().delete()
    ModelArtifact.objects.all().delete()
    TrainingRun.objects.all().delete()
    from tests.datasets_app.versions.conftest import purge_versions

    purge_versions()


@pytest.fixture
def training_transactional_db(transactional_db):
    yield
    purge_training_and_versions()
