"""The playground through the serving engine (it no longer loads the model per request): the
same greedy answers the model gives loaded in-process, counted by the engine; and the choice
itself — without a configured, answering engine, jobs generate in-process
(tests/training/test_execute.py and tests/evaluation/test_runs.py run that path)."""

from __future__ import annotations

import pytest

from serving.generation import engine_ready
from tests.serving.conftest import engine_health
from training.models import PlaygroundRequest, PlaygroundStatus
from training.recipe.base_models import load_model, load_tokenizer
from training.recipe.evaluate import generate
from training.services.evaluation import playground_request_run

pytestmark = pytest.mark.django_db

MESSAGES = [{"role": "user", "content": "What is 2 + 3?"}]


def test_it_uses_the_engine_only_when_one_is_configured_and_answering(settings, monkeypatch):
    monkeypatch.delenv("FINETUNEDB_SERVING_URL", raising=False)
    settings.FINETUNEDB_SERVING_URL = None
    assert not engine_ready()  # the test suite's default: jobs load their model
    settings.FINETUNEDB_SERVING_URL = "http://127.0.0.1:9"  # configured, nothing listening
    assert not engine_ready()


def test_it_answers_the_playground_through_the_engine(
    served, engine, finetuned, owner, tiny_model_dir, serving_models_dir
):
    from peft import PeftModel

    served.FINETUNEDB_PLAYGROUND_MAX_NEW_TOKENS = 8
    assert engine_ready()
    before = engine_health(engine).get("batched_requests", 0)
    request = PlaygroundRequest.objects.create(model=finetuned, messages=MESSAGES, created_by=owner)
    playground_request_run(request_id=request.pk)
    request.refresh_from_db()
    assert request.status == PlaygroundStatus.DONE, request.error
    assert engine_health(engine).get("batched_requests", 0) == before + 2  # base and fine-tuned

    tokenizer = load_tokenizer(str(tiny_model_dir))
    base = load_model(str(tiny_model_dir)).eval()
    assert request.answers["base"] == generate(base, tokenizer, MESSAGES, max_new_tokens=8)
    weights = serving_models_dir / "runs" / "1" / "model" / "weights"
    tuned = PeftModel.from_pretrained(base, weights, is_trainable=False).eval()
    assert request.answers["finetuned"] == generate(tuned, tokenizer, MESSAGES, max_new_tokens=8)
    assert request.answers["finetuned"] != request.answers["base"]
