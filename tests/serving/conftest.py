"""A real engine process on the tiny model (tests/reliability/tiny_model.py) with two LoRA
adapters in the folders a run's model has, the settings that point the app at it, and the
official ``openai`` client calling the app in-process (WSGI) with a real API token."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from tests.training.conftest import make_version, version  # noqa: F401
from tests.training.recipe.conftest import tiny_model_dir, tokenizer  # noqa: F401

ROOT = Path(__file__).resolve().parents[2]


def build_adapter(base_dir: Path, out: Path, seed: int) -> Path:
    """A LoRA adapter on the tiny model with random (not zero) B matrices, so it changes answers."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(seed)
    base = AutoModelForCausalLM.from_pretrained(base_dir)
    config = LoraConfig(
        r=4, lora_alpha=64, target_modules=["q_proj", "v_proj"], init_lora_weights=False
    )
    get_peft_model(base, config).save_pretrained(out)
    return out


@pytest.fixture(scope="session")
def serving_models_dir(tmp_path_factory, tiny_model_dir):  # noqa: F811
    root = tmp_path_factory.mktemp("serving-models")
    for run_id in (1, 2):
        build_adapter(tiny_model_dir, root / "runs" / str(run_id) / "model" / "weights", run_id)
    return root


def start_engine(models_dir: Path, base: Path | None, *extra: str):
    """An engine process on a free loopback port allowing ``base`` (None: no base model, an
    engine that only embeds); ``(process, url)``."""
    allow = ["--allow-base", str(base)] if base is not None else []
    process = subprocess.Popen(
        [sys.executable, "-m", "serving.engine.server", "--port", "0", "--models-dir",
         str(models_dir), *allow, "--threads", "1", *extra],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    line = process.stdout.readline()
    if "serving engine on" not in line:
        process.kill()
        raise RuntimeError(f"the engine did not start: {line}{process.stdout.read()}")
    return process, line.split()[-1]


@pytest.fixture(scope="session")
def engine(serving_models_dir, tiny_model_dir):  # noqa: F811
    process, url = start_engine(serving_models_dir, tiny_model_dir, "--max-adapters", "1")
    yield url
    process.terminate()
    process.wait(timeout=10)


def engine_health(url: str) -> dict:
    with urllib.request.urlopen(url + "/health", timeout=5) as response:  # noqa: S310 - loopback
        return json.loads(response.read())


@pytest.fixture
def served(settings, engine, serving_models_dir, tiny_model_dir):  # noqa: F811
    settings.FINETUNEDB_SERVING_URL = engine
    settings.FINETUNEDB_MODELS_DIR = serving_models_dir
    settings.FINETUNEDB_BASE_MODELS = [str(tiny_model_dir)]
    return settings


def make_finetuned(version, run_folder: int, tiny_model_dir):  # noqa: F811
    from training.models import ModelArtifact, RunStatus, TrainingRun

    run = TrainingRun.objects.create(
        version=version,
        dataset_version_hash=version.content_hash,
        base_model=str(tiny_model_dir),
        config={},
        status=RunStatus.SUCCEEDED,
    )
    return ModelArtifact.objects.create(
        run=run, path=f"runs/{run_folder}/model", weights_sha256="0" * 64
    )


@pytest.fixture
def finetuned(version, tiny_model_dir, served):  # noqa: F811
    return make_finetuned(version, 1, tiny_model_dir)


@pytest.fixture
def openai_for(db):
    """``make(user)``: the official client with a real API token of ``user``, calling the app."""
    import httpx2
    from django.core.signals import request_finished, request_started
    from django.core.wsgi import get_wsgi_application
    from django.db import close_old_connections
    from openai import OpenAI

    from finetunedb.teams.services import api_token_create

    app = get_wsgi_application()
    # As Django's test client does: the WSGI handler would close the test's connection (and its
    # transaction) at the end of each request.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)

    def make(user, token=None):
        token = token or api_token_create(user=user)[1]
        transport = httpx2.WSGITransport(app=app)
        return OpenAI(
            api_key=token,
            base_url="http://testserver/v1",
            http_client=httpx2.Client(transport=transport),
            max_retries=0,
        )

    yield make
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)
