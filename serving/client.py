"""The web process's side of the engine: one HTTP request per completion, its events read as
they come, and :func:`engine_embed` for sentence embeddings. Nothing here generates or embeds;
a down or full engine is :class:`EngineUnavailable`."""

from __future__ import annotations

import http.client
import json
from urllib.parse import urlsplit

from .conf import engine_kind, engine_timeout_s, engine_url

ENGINE_DOWN = "The model server is not running or not answering; retry in a moment."


class EngineUnavailable(RuntimeError):
    pass


class EngineRefused(Exception):
    """The engine answered an error before generating: ``status`` and its message."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


class EngineStream:
    """Iterate ``(kind, value)`` events; :meth:`close` hangs up, which cancels the request."""

    def __init__(self, payload: dict):
        url = urlsplit(engine_url())
        self.conn = http.client.HTTPConnection(
            url.hostname, url.port or 80, timeout=engine_timeout_s()
        )
        body = json.dumps(payload).encode()
        try:
            self.conn.request(
                "POST", "/generate", body=body, headers={"Content-Type": "application/json"}
            )
            self.response = self.conn.getresponse()
        except (OSError, http.client.HTTPException) as exc:
            self.close()
            raise EngineUnavailable(ENGINE_DOWN) from exc
        if self.response.status != 200:
            try:
                message = json.loads(self.response.read() or b"{}").get("error", "")
            except (OSError, ValueError, http.client.HTTPException):
                message = ""
            self.close()
            raise EngineRefused(self.response.status, message)

    def __iter__(self):
        try:
            while True:
                line = self.response.readline()
                if not line:
                    yield "error", "the model server stopped in the middle of the answer"
                    return
                ((kind, value),) = json.loads(line).items()
                yield kind, value
                if kind != "delta":
                    return
        except (OSError, ValueError, http.client.HTTPException):
            yield "error", "the model server stopped in the middle of the answer"

    def close(self) -> None:
        self.conn.close()


def engine_stream(payload: dict):
    """The configured engine's stream for one completion: the embedded engine's
    :class:`EngineStream`, or vLLM's OpenAI server (:class:`serving.vllm_client.VllmStream`)."""
    if engine_kind() == "vllm":
        from .vllm_client import VllmStream

        return VllmStream(payload)
    return EngineStream(payload)


# A search waits for its query's vector; the first request also loads the model (seconds).
EMBED_TIMEOUT_S = 60
# The engine's answer to at most 128 texts: 128 vectors of a few thousand floats as JSON is a
# few MB; anything far past that is not the engine, and is not read into memory.
MAX_EMBED_REPLY_BYTES = 32 * 1024 * 1024


def engine_embed(*, model: str, texts: list[str]) -> list[list[float]]:
    """One embedding per text, in order, from the embedded engine's ``POST /embed`` (always the
    engine at FINETUNEDB_SERVING_URL, also beside vLLM). :class:`EngineUnavailable` when it is
    not answering; :class:`EngineRefused` when it refuses (404: it does not offer ``model``)."""
    url = urlsplit(engine_url())
    conn = http.client.HTTPConnection(
        url.hostname, url.port or 80, timeout=min(EMBED_TIMEOUT_S, engine_timeout_s())
    )
    body = json.dumps({"model": model, "input": list(texts)}).encode()
    try:
        conn.request("POST", "/embed", body=body, headers={"Content-Type": "application/json"})
        response = conn.getresponse()
        raw = response.read(MAX_EMBED_REPLY_BYTES + 1)
        if len(raw) > MAX_EMBED_REPLY_BYTES:
            raise ValueError(f"an answer over {MAX_EMBED_REPLY_BYTES} bytes")
        answer = json.loads(raw or b"{}")
        if response.status != 200:
            raise EngineRefused(response.status, str(answer.get("error", "")))
        return [row["embedding"] for row in sorted(answer["data"], key=lambda r: r["index"])]
    except (
        OSError,
        ValueError,
        KeyError,
        TypeError,
        AttributeError,
        RecursionError,  # json.loads on a deeply nested answer
        http.client.HTTPException,
    ) as exc:
        # an answer that is not the engine's (another server on the port): as good as down
        raise EngineUnavailable(ENGINE_DOWN) from exc
    finally:
        conn.close()
