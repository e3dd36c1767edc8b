"""A loopback stand-in for vLLM's OpenAI-compatible server (the routes the app uses): streamed
chat completions, 404 for a model it does not serve, runtime LoRA registration, /v1/models.
It answers "Hello from <model>" in three chunks, then usage, then [DONE]."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class OpenAIStub(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, served: list[str]):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.served = set(served)
        self.seen: list[tuple[str, dict]] = []
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_port}/v1"

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


class _Handler(BaseHTTPRequestHandler):
    server: OpenAIStub

    def log_message(self, *args):
        pass

    def _json(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):  # noqa: N802
        if self.path == "/v1/models":
            data = [{"id": m, "object": "model"} for m in sorted(self.server.served)]
            return self._json(200, {"object": "list", "data": data})
        return self._json(404, {"error": {"message": "not found"}})

    def do_POST(self):  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.seen.append((self.path, body))
        if self.path == "/v1/load_lora_adapter":
            self.server.served.add(body["lora_name"])
            return self._json(200, {"message": "Success"})
        if self.path != "/v1/chat/completions":
            return self._json(404, {"error": {"message": "not found"}})
        model = body.get("model")
        if model not in self.server.served:
            message = f"The model `{model}` does not exist."
            return self._json(404, {"error": {"message": message, "type": "NotFoundError"}})
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        for piece in ("Hello", " from ", model):
            chunk = {"choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]}
            self.wfile.write(b"data: " + json.dumps(chunk).encode() + b"\n\n")
        last = {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
        usage = {"choices": [], "usage": {"prompt_tokens": 11, "completion_tokens": 3}}
        for chunk in (last, usage):
            self.wfile.write(b"data: " + json.dumps(chunk).encode() + b"\n\n")
        self.wfile.write(b"data: [DONE]\n\n")
