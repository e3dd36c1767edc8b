"""The GPU engine for real: vLLM's OpenAI server (``--enable-lora``, runtime LoRA loading) with
the bundled SmolLM2 as its base, called through the app by the official ``openai`` client —
the base and a LoRA adapter, streaming and not, logged. Skips without CUDA or vllm installed;
tests/serving/test_vllm_routing.py runs the same routing against a loopback stand-in."""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from capture.models import Log

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        importlib.util.find_spec("vllm") is None, reason="vllm is not installed (GPU machines)"
    ),
]
BASE = "bundled:SmolLM2-135M-Instruct"
ASK = [{"role": "user", "content": "What is the capital of France?"}]


def _cuda() -> bool:
    import torch

    return torch.cuda.is_available()


@pytest.fixture(scope="module")
def vllm_server(tmp_path_factory):
    if not _cuda():
        pytest.skip("no CUDA device")
    from training.recipe.base_models import ensure_bundled_model

    base = ensure_bundled_model(tmp_path_factory.mktemp("base"))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "VLLM_ALLOW_RUNTIME_LORA_UPDATING": "True"}
    process = subprocess.Popen(
        [sys.executable, "-m", "vllm.entrypoints.openai.api_server", "--model", str(base),
         "--served-model-name", "smol", "--enable-lora", "--max-loras", "2",
         "--max-lora-rank", "8", "--host", "127.0.0.1", "--port", str(port),
         "--gpu-memory-utilization", "0.3"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url + "/models", timeout=2)  # noqa: S310 - loopback
            break
        except OSError:
            if process.poll() is not None:
                pytest.fail("vllm exited before it answered")
            time.sleep(2)
    else:
        process.kill()
        pytest.fail("vllm did not answer within 300 s")
    yield url, base
    process.terminate()
    process.wait(timeout=60)


def test_it_serves_the_base_and_an_adapter_through_vllm(
    vllm_server, settings, tmp_path, openai_for, owner, version
):
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    from training.models import Method, ModelArtifact, RunStatus, TrainingRun

    url, base = vllm_server
    settings.FINETUNEDB_SERVING_ENGINE = "vllm"
    settings.FINETUNEDB_VLLM_URL = url
    settings.FINETUNEDB_VLLM_MODELS = {BASE: "smol"}
    settings.FINETUNEDB_MODELS_DIR = tmp_path
    weights = tmp_path / "runs" / "1" / "model" / "weights"
    config = LoraConfig(r=8, target_modules=["q_proj", "v_proj"], init_lora_weights=False)
    get_peft_model(AutoModelForCausalLM.from_pretrained(base), config).save_pretrained(weights)
    run = TrainingRun.objects.create(
        version=version, dataset_version_hash=version.content_hash, base_model=BASE,
        method=Method.LORA, config={}, status=RunStatus.SUCCEEDED,
    )  # fmt: skip
    model = ModelArtifact.objects.create(run=run, path="runs/1/model", weights_sha256="0" * 64)

    client = openai_for(owner)
    plain = client.chat.completions.create(model=BASE, messages=ASK, max_tokens=16, temperature=0)
    assert plain.choices[0].message.content and plain.usage.completion_tokens > 0
    name = f"ftdb-model-{model.pk}"
    chunks = list(
        client.chat.completions.create(model=name, messages=ASK, max_tokens=16, stream=True)
    )
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert Log.objects.filter(source="serving").count() == 2
