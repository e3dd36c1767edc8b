"""FINETUNEDB_SERVING_ENGINE = "vllm": the app authorises and routes, a vLLM OpenAI server
generates. Against a loopback stand-in (tests/serving/openai_stub.py), through the official
``openai`` client: base models under vLLM's name, adapters registered on first use, streaming
and not, the calls logged; vLLM down is a 503; the app's jobs generate through it too."""

from __future__ import annotations

import pytest

from capture.models import Log
from serving.generation import engine_generate_batch, engine_ready
from serving.vllm_client import lora_name
from tests.serving.openai_stub import OpenAIStub
from training.models import Method, ModelArtifact, RunStatus, TrainingRun

pytestmark = pytest.mark.django_db
BASE = "bundled:SmolLM2-135M-Instruct"
ASK = [{"role": "user", "content": "Hi"}]


@pytest.fixture
def vllm(settings, tmp_path):
    stub = OpenAIStub(served=["smol"])
    settings.FINETUNEDB_SERVING_ENGINE = "vllm"
    settings.FINETUNEDB_VLLM_URL = stub.url
    settings.FINETUNEDB_VLLM_MODELS = {BASE: "smol"}
    settings.FINETUNEDB_MODELS_DIR = tmp_path
    yield stub
    stub.stop()


@pytest.fixture
def adapter_model(version):
    run = TrainingRun.objects.create(
        version=version,
        dataset_version_hash=version.content_hash,
        base_model=BASE,
        method=Method.LORA,
        config={},
        status=RunStatus.SUCCEEDED,
    )
    return ModelArtifact.objects.create(run=run, path="runs/7/model", weights_sha256="0" * 64)


def test_it_sends_a_base_model_to_vllm_under_its_served_name(vllm, openai_for, owner, team):
    answer = openai_for(owner).chat.completions.create(model=BASE, messages=ASK, max_tokens=5)
    assert answer.choices[0].message.content == "Hello from smol"
    assert answer.choices[0].finish_reason == "stop"
    assert (answer.usage.prompt_tokens, answer.usage.completion_tokens) == (11, 3)
    path, body = vllm.seen[-1]
    assert path == "/v1/chat/completions"
    assert body["model"] == "smol" and body["max_tokens"] == 5 and body["stream"] is True
    log = Log.objects.get(model=BASE)
    assert log.source == "serving" and log.response["content"] == "Hello from smol"


def test_it_registers_an_adapter_on_first_use_and_streams_its_answer(
    vllm, openai_for, owner, adapter_model, tmp_path
):
    client = openai_for(owner)
    name = f"ftdb-model-{adapter_model.pk}"
    folder = str(tmp_path / "runs" / "7" / "model" / "weights")
    chunks = list(client.chat.completions.create(model=name, messages=ASK, stream=True))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == f"Hello from {lora_name(folder)}"
    assert [p for p, _ in vllm.seen] == [
        "/v1/chat/completions",  # 404: vLLM does not know it yet
        "/v1/load_lora_adapter",
        "/v1/chat/completions",
    ]
    assert vllm.seen[1][1] == {"lora_name": lora_name(folder), "lora_path": folder}
    client.chat.completions.create(model=name, messages=ASK)
    assert [p for p, _ in vllm.seen].count("/v1/load_lora_adapter") == 1  # once
    assert Log.objects.filter(model=name, source="serving").count() == 2


def test_it_answers_503_when_vllm_is_down(vllm, settings, openai_for, owner):
    import openai

    settings.FINETUNEDB_VLLM_URL = "http://127.0.0.1:9/v1"
    with pytest.raises(openai.InternalServerError) as failed:
        openai_for(owner).chat.completions.create(model=BASE, messages=ASK)
    assert failed.value.status_code == 503
    assert failed.value.body["code"] == "engine_unavailable"
    assert not engine_ready()


def test_it_generates_the_apps_jobs_through_vllm(vllm):
    assert engine_ready()
    answers = engine_generate_batch(
        [ASK, ASK, ASK], base=BASE, adapter=None, team="team-1", max_new_tokens=4, batch_size=2
    )
    assert answers == ["Hello from smol"] * 3
    assert sum(p == "/v1/chat/completions" for p, _ in vllm.seen) == 3
