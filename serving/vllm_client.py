"""The GPU engine: the app authorises and routes, vLLM's OpenAI-compatible server generates.

With ``FINETUNEDB_SERVING_ENGINE = "vllm"`` the web process (and the app's jobs) send each
completion to ``FINETUNEDB_VLLM_URL`` (``vllm serve <base> --enable-lora``, its ``/v1``)
instead of the embedded engine, and read its server-sent events back into the engine's events
(``delta`` … ``done``/``error``), so the views, the logging and the jobs do not change.

- A base model is sent under the name vLLM serves it by: ``FINETUNEDB_VLLM_MODELS`` maps the
  app's base names (``bundled:…`` or a folder) to it; unmapped, the app's name is sent as is.
- A LoRA adapter is sent as ``lora-<sha256 of its folder, 16 hex>``; when vLLM does not know it
  yet (404), the adapter is registered once with ``POST /v1/load_lora_adapter`` (vLLM started
  with ``VLLM_ALLOW_RUNTIME_LORA_UPDATING=True``) and the request is sent again.
- A client that hangs up closes the connection to vLLM, which aborts the request.
"""

from __future__ import annotations

import hashlib
import http.client
import json
from urllib.parse import urlsplit

from .client import ENGINE_DOWN, EngineRefused, EngineUnavailable
from .conf import engine_timeout_s, vllm_setting

STOPPED = "the model server stopped in the middle of the answer"
NOT_CONFIGURED = "FINETUNEDB_SERVING_ENGINE is 'vllm' but FINETUNEDB_VLLM_URL is not set"


def vllm_url() -> str:
    url = vllm_setting("FINETUNEDB_VLLM_URL")
    if not url:
        raise EngineUnavailable(NOT_CONFIGURED)
    return url.rstrip("/")


def adapter_path(folder: str) -> str:
    """The app names adapter folders relative to the models folder; vLLM runs beside the GPU
    worker and reads them there (the same ``FINETUNEDB_MODELS_DIR`` as this process's)."""
    from training.services.base_models import models_dir

    return str(models_dir() / folder)


def lora_name(folder: str) -> str:
    """The name an adapter folder is registered under in vLLM (stable, no path in it)."""
    return "lora-" + hashlib.sha256(folder.encode()).hexdigest()[:16]


def vllm_model_name(payload: dict) -> str:
    if payload.get("adapter"):
        return lora_name(adapter_path(payload["adapter"]))
    names = vllm_setting("FINETUNEDB_VLLM_MODELS", {})
    return names.get(payload["base"], payload["base"])


def chat_body(payload: dict) -> dict:
    """The OpenAI request for an engine payload (``serving.api.views``' shape)."""
    body = {
        "model": vllm_model_name(payload),
        "messages": payload["messages"],
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    for name in ("tools", "tool_choice", "max_tokens", "temperature", "top_p", "seed"):
        if payload.get(name) is not None:
            body[name] = payload[name]
    if payload.get("stop"):
        body["stop"] = payload["stop"]
    return body


class _Connection:
    def __init__(self, timeout: float):
        parts = urlsplit(vllm_url())
        factory = (
            http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        )
        self.prefix = parts.path.rstrip("/")
        self.conn = factory(parts.hostname, parts.port, timeout=timeout)

    def post(self, path: str, body: dict):
        headers = {"Content-Type": "application/json"}
        headers.update(_auth())
        try:
            self.conn.request("POST", self.prefix + path, body=json.dumps(body), headers=headers)
            return self.conn.getresponse()
        except (OSError, http.client.HTTPException) as exc:
            self.conn.close()
            raise EngineUnavailable(ENGINE_DOWN) from exc

    def close(self) -> None:
        self.conn.close()


def _auth() -> dict:
    key = vllm_setting("FINETUNEDB_VLLM_API_KEY")
    return {"Authorization": f"Bearer {key}"} if key else {}


def _error_message(response) -> str:
    try:
        body = json.loads(response.read() or b"{}")
    except (OSError, ValueError, http.client.HTTPException):
        return f"vLLM answered {response.status}"
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        return str(error.get("message", ""))[:500]
    return str(body.get("message", f"vLLM answered {response.status}"))[:500]


def _load_adapter(folder: str) -> None:
    path = adapter_path(folder)
    conn = _Connection(engine_timeout_s())
    try:
        response = conn.post(
            "/load_lora_adapter", {"lora_name": lora_name(path), "lora_path": path}
        )
        if response.status != 200:
            raise EngineRefused(404, f"vLLM could not load the adapter: {_error_message(response)}")
        response.read()
    finally:
        conn.close()


class VllmStream:
    """:class:`serving.client.EngineStream`'s interface over vLLM's streamed chat completion."""

    def __init__(self, payload: dict):
        self.conn = _Connection(engine_timeout_s())
        body = chat_body(payload)
        self.response = self.conn.post("/chat/completions", body)
        if self.response.status == 404 and payload.get("adapter"):
            self.response.read()
            self.conn.close()
            _load_adapter(payload["adapter"])
            self.conn = _Connection(engine_timeout_s())
            self.response = self.conn.post("/chat/completions", body)
        if self.response.status != 200:
            message, status = _error_message(self.response), self.response.status
            self.close()
            # vLLM's 429/5xx mean busy or failing: the app answers 503 with Retry-After.
            raise EngineRefused(status if status in (400, 404) else 503, message)

    def __iter__(self):
        finish, usage, sent = None, {}, False
        try:
            while True:
                line = self.response.readline()
                if not line:
                    yield "error", STOPPED
                    return
                line = line.strip()
                if not line.startswith(b"data:"):
                    continue
                data = line[5:].strip()
                if data == b"[DONE]":
                    yield "done", {"finish_reason": finish or "stop", **usage}
                    return
                chunk = json.loads(data)
                if "error" in chunk:
                    yield "error", str(chunk["error"].get("message", chunk["error"]))[:500]
                    return
                if chunk.get("usage"):
                    usage = {
                        "prompt_tokens": chunk["usage"].get("prompt_tokens", 0),
                        "completion_tokens": chunk["usage"].get("completion_tokens", 0),
                    }
                for choice in chunk.get("choices") or []:
                    content = (choice.get("delta") or {}).get("content")
                    if content:
                        sent = True
                        yield "delta", content
                    finish = choice.get("finish_reason") or finish
        except (OSError, ValueError, AttributeError, http.client.HTTPException):
            yield "error", STOPPED if sent else ENGINE_DOWN

    def close(self) -> None:
        self.conn.close()


def vllm_ready() -> bool:
    """Whether the vLLM server answers ``GET /v1/models``."""
    try:
        conn = _Connection(5.0)
    except EngineUnavailable:
        return False
    try:
        conn.conn.request("GET", conn.prefix + "/models", headers=_auth())
        return conn.conn.getresponse().status == 200
    except (OSError, http.client.HTTPException):
        return False
    finally:
        conn.close()
