"""The web process's side of the engine: one HTTP request per completion, its events read as
they come. Nothing here generates; a down or full engine is :class:`EngineUnavailable`."""

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
