"""The serving worker: ``python -m serving.engine.server --port 8011 --models-dir DIR``.

A small HTTP server on 127.0.0.1 (never another interface: the web app authorises, the engine
trusts its one caller). Routes:

- ``POST /generate`` ``{base, adapter?, store?, messages, tools?, tool_choice?, max_tokens?,
  temperature?, top_p?, stop?, seed?, team?}`` -> 200 and newline-delimited JSON events
  (``{"delta": "..."}`` ... ``{"done": {...usage, finish_reason}}`` or ``{"error": "..."}``),
  or before any event 400 (bad input), 404 (model refused), 429 (the team's cap), 503 (queue
  full). A client that goes away cancels its request at the next token.
- ``POST /embed`` ``{model, input: [texts]}`` -> ``{data: [{embedding, index}], model}``
  (serving/engine/embeddings.py: the web process's semantic search embeds its query here).
- ``GET /health`` -> ``{"ok": true, ...counters}``.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import signal
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from . import embeddings
from .models import ModelRefused, ModelStore, store_opener_from_environ
from .scheduler import Busy, Params, PromptTooLong, Scheduler, TeamBusy

MAX_BODY = 4 * 1024 * 1024
# A decode step longer than this means the engine is stuck; the client gets an error, not a hang.
EVENT_TIMEOUT_S = 300


class Handler(BaseHTTPRequestHandler):
    scheduler: Scheduler
    embeddings: embeddings.EmbeddingService
    protocol_version = "HTTP/1.0"

    def log_message(self, format, *args):  # noqa: A002 - the stdlib's name
        pass

    def _json(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):  # noqa: N802
        if self.path != "/health":
            return self._json(404, {"error": "not found"})
        return self._json(200, {"ok": True, **self.scheduler.snapshot()})

    def do_POST(self):  # noqa: N802
        if self.path not in ("/generate", "/embed"):
            return self._json(404, {"error": "not found"})
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:  # was a dropped connection
            return self._json(400, {"error": "Content-Length must be a whole number of bytes"})
        if length <= 0 or length > MAX_BODY:
            return self._json(
                413, {"error": f"body missing or too large (Content-Length 1 to {MAX_BODY} bytes)"}
            )
        if self.path == "/embed":
            return self._json(*self.embeddings.answer(self.rfile.read(length)))
        try:
            body = json.loads(self.rfile.read(length))
            params = Params(
                max_tokens=body.get("max_tokens"),
                temperature=float(body.get("temperature", 1.0)),
                top_p=float(body.get("top_p", 1.0)),
                stop=list(body.get("stop") or []),
                seed=body.get("seed"),
            )
            request = self.scheduler.prepare(
                base=body["base"],
                adapter=body.get("adapter"),
                messages=body["messages"],
                tools=body.get("tools"),
                tool_choice=body.get("tool_choice"),
                params=params,
                store=body.get("store"),  # a fine-tune's published folder (models.py)
            )
            request.team = str(body.get("team", ""))
            self.scheduler.submit(request)
        except ModelRefused as exc:
            return self._json(404, {"error": str(exc)})
        except TeamBusy as exc:
            return self._json(429, {"error": str(exc)})
        except Busy as exc:
            return self._json(503, {"error": str(exc)})
        except (PromptTooLong, ValueError, KeyError, TypeError) as exc:
            return self._json(400, {"error": f"{type(exc).__name__}: {exc}"})
        except Exception as exc:  # noqa: BLE001 - e.g. a base that fails to load
            return self._json(500, {"error": f"{type(exc).__name__}: {exc}"})
        self._stream(request)

    def _stream(self, request) -> None:
        try:
            self.send_response(200)
            self.send_header("Content-Type", "application/x-ndjson")
            self.end_headers()
            while True:
                try:
                    kind, value = request.events.get(timeout=EVENT_TIMEOUT_S)
                except queue.Empty:
                    kind, value = "error", "the engine produced nothing for too long"
                    request.cancel()
                self.wfile.write(json.dumps({kind: value}).encode() + b"\n")
                self.wfile.flush()
                if kind != "delta":
                    return
        except (BrokenPipeError, ConnectionResetError, OSError):
            request.cancel()  # the caller went away: free the slot at the next token


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=int(os.environ.get("SERVING_PORT", 8011)))
    parser.add_argument("--models-dir", default=os.environ.get("FINETUNEDB_MODELS_DIR"))
    parser.add_argument(
        "--allow-base",
        action="append",
        default=[
            p.strip() for p in os.environ.get("FINETUNEDB_BASE_MODELS", "").split(",") if p.strip()
        ],
        help="a base model folder (default: FINETUNEDB_BASE_MODELS, comma-separated)",
    )
    parser.add_argument("--max-batch", type=int, default=8)
    parser.add_argument("--max-queue", type=int, default=32)
    parser.add_argument("--team-concurrency", type=int, default=8)
    parser.add_argument("--max-adapters", type=int, default=4, help="per base, LRU beyond")
    parser.add_argument(
        "--one-adapter-per-batch",
        action="store_true",
        help="drain a batch before switching adapters (default: adapters of a base share one)",
    )
    parser.add_argument("--window-ms", type=float, default=20.0)
    parser.add_argument("--device", default=os.environ.get("FINETUNEDB_TRAINING_DEVICE") or "cpu")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's)")
    parser.add_argument("--preload", action="append", default=[], help="a base to load at start")
    embeddings.add_arguments(parser)
    args = parser.parse_args(argv)
    if not args.models_dir:
        parser.error("--models-dir (or FINETUNEDB_MODELS_DIR) is required")
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        parser.error("the engine listens on the loopback interface only")
    if args.max_adapters < 1:
        parser.error("--max-adapters must be at least 1")
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    open_key, cache_bytes = store_opener_from_environ()
    store = ModelStore(
        open_key=open_key,
        cache_bytes=cache_bytes,
        models_dir=args.models_dir,
        allowed_bases=args.allow_base,
        max_adapters=args.max_adapters,
        device=args.device,
    )
    for name in args.preload:
        try:
            store.base(store.check(name, None)[0])
        except Exception as exc:  # noqa: BLE001 - serve what loads; a request names the failure
            print(f"could not preload {name}: {exc}", file=sys.stderr, flush=True)
    Handler.scheduler = Scheduler(
        store,
        max_batch=args.max_batch,
        max_queue=args.max_queue,
        team_concurrency=args.team_concurrency,
        window_s=args.window_ms / 1000,
        mix_adapters=not args.one_adapter_per_batch,
    )
    Handler.embeddings = embeddings.service_from_args(args)
    server = ThreadingHTTPServer((args.host, args.port), Handler)
    server.daemon_threads = True
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(f"serving engine on http://{args.host}:{server.server_port}", flush=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
