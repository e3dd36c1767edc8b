"""Fixtures for the evaluation app: a frozen gsm8k-style version (questions whose answers end
in ``#### n``), suites on it, and the tiny Llama registered as an allowed base model."""

from __future__ import annotations

import pytest

from tests.training.conftest import (  # noqa: F401
    records,
    tiny_hyperparameters,
    tiny_model_dir,
    tokenizer,
    training_settings,
)

GSM_SPLITS = ["train"] * 6 + ["test"] * 5


def gsm_chat(i: int) -> list[dict]:
    a, b = i + 3, 2 * i + 5
    return [
        {"role": "user", "content": f"Tom has {a} apples and buys {b} more. How many now?"},
        {"role": "assistant", "content": f"Tom has {a} + {b} = {a + b} apples.\n#### {a + b}"},
    ]


@pytest.fixture
def gsm_version(dataset, owner, make_example):
    from datasets_app.services.versions import dataset_version_freeze

    for i, split in enumerate(GSM_SPLITS):
        make_example(dataset, owner, gsm_chat(i), split=split)
    return dataset_version_freeze(user=owner, dataset=dataset, name="gsm")


FORMAT_AND_NUMBER = [
    {"type": "regex", "params": {"name": "format", "pattern": "####\\s*-?[0-9]"}},
    {"type": "final_number"},
]


@pytest.fixture
def make_suite(owner, team, gsm_version):
    from evaluation.services.suites import eval_suite_create

    def make(name="gsm test", evaluators=None, **kwargs):
        return eval_suite_create(
            user=owner,
            team=team,
            version=kwargs.pop("version", gsm_version),
            name=name,
            evaluators=evaluators or FORMAT_AND_NUMBER,
            **kwargs,
        )

    return make


@pytest.fixture
def suite(make_suite):
    return make_suite()


@pytest.fixture
def eval_settings(training_settings):  # noqa: F811
    training_settings.FINETUNEDB_EVAL_BATCH_SIZE = 2
    return training_settings


@pytest.fixture
def no_enqueue(monkeypatch):
    """Runs stay queued; the test executes them itself."""
    from evaluation.services import runs

    monkeypatch.setattr(runs, "eval_run_enqueue", lambda run_id: None)
