"""``POST /embed`` on the serving worker: sentence embeddings, so no web process loads torch.

Request ``{"model": name, "input": [texts]}`` (or one text), shaped like OpenAI's
``/v1/embeddings``; answer ``{"object": "list", "data": [{"object": "embedding", "index": i,
"embedding": [...]}], "model": name}`` with one unit vector per text, in order. The values are
the float16 the app stores (semantic/store.py), written as JSON numbers, so a query embedded
here compares with a stored row exactly as if it had been embedded beside it.

The model names and folders are :mod:`semantic.resolver`'s (the bundled all-MiniLM-L6-v2 under
``<models dir>/embeddings``, sha256 checked, or a folder given with ``--embedding-model``); each
model loads once, on its first request. 400: bad input (which field, what to do); 404: a model
this engine does not offer; 503: an offered model that cannot load (its files are missing or
changed: the engine's log says which).
"""

from __future__ import annotations

import json
import os
import re
import sys
import threading

from semantic.bundled import EmbeddingModelError
from semantic.embedder import Embedder
from semantic.resolver import UnknownEmbeddingModel, embedding_model_load, embedding_model_resolve

MAX_INPUTS = 128
MAX_INPUT_CHARS = 8192
BATCH = 32
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")

ERR_JSON = "the body must be a JSON object: {reason}"
ERR_MODEL = "model must be a string naming an embedding model"
ERR_INPUT = "input must be a text or a list of 1 to {limit} texts"
ERR_TEXT = "input[{index}] must be a non-empty string"
ERR_LONG = "input[{index}] has {n} characters; at most {limit} (shorten or split it)"
ERR_UNICODE = (
    "input[{index}] is not valid Unicode: character {at} is a lone surrogate (a \\ud800-\\udfff "
    "escape without its pair); send the text as UTF-8"
)
ERR_LOAD = "embedding model {name!r} could not be loaded on the serving engine; its log says why"


class EmbedRefused(Exception):
    """The request cannot be answered: ``status`` and the message for the caller."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def embed_input_parse(body, *, max_inputs: int = MAX_INPUTS, max_chars: int = MAX_INPUT_CHARS):
    """``(model, texts)`` from a decoded request, or :class:`EmbedRefused` (400) naming the field.

    >>> embed_input_parse({"model": "m", "input": "hi"})
    ('m', ['hi'])
    """
    if not isinstance(body, dict):
        raise EmbedRefused(400, ERR_JSON.format(reason="got " + type(body).__name__))
    model = body.get("model")
    if not isinstance(model, str) or not model.strip():
        raise EmbedRefused(400, ERR_MODEL)
    texts = body.get("input")
    if isinstance(texts, str):
        texts = [texts]
    if not isinstance(texts, list) or not 1 <= len(texts) <= max_inputs:
        raise EmbedRefused(400, ERR_INPUT.format(limit=max_inputs))
    for index, text in enumerate(texts):
        if not isinstance(text, str) or not text:
            raise EmbedRefused(400, ERR_TEXT.format(index=index))
        if len(text) > max_chars:
            raise EmbedRefused(400, ERR_LONG.format(index=index, n=len(text), limit=max_chars))
        surrogate = _LONE_SURROGATE.search(text)
        if surrogate:  # JSON's "\ud800" escape; no tokenizer encodes it (was a 500 TypeError)
            raise EmbedRefused(400, ERR_UNICODE.format(index=index, at=surrogate.start()))
    return model, texts


class EmbeddingService:
    """The engine's embedding models: loaded once each, one forward pass at a time per model
    (the generation scheduler shares the cores; concurrent passes would only slow each other)."""

    def __init__(self, *, models_dir, registered, device: str | None = "cpu", batch: int = BATCH):
        self.models_dir = models_dir
        self.registered = list(registered)
        self.device = device
        self.batch = batch
        self._loaded: dict[str, Embedder] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()

    def _model(self, name: str) -> tuple[Embedder, threading.Lock]:
        try:
            name = embedding_model_resolve(name, registered=self.registered)
        except UnknownEmbeddingModel as exc:
            raise EmbedRefused(404, str(exc)) from exc
        with self._lock:
            lock = self._locks.setdefault(name, threading.Lock())
        with lock:  # one load per model, even when its first requests come together
            if name not in self._loaded:
                try:
                    self._loaded[name] = embedding_model_load(
                        name,
                        models_dir=self.models_dir,
                        registered=self.registered,
                        device=self.device,
                    )
                except EmbeddingModelError as exc:
                    print(f"embedding model {name!r}: {exc}", file=sys.stderr, flush=True)
                    raise EmbedRefused(503, ERR_LOAD.format(name=name)) from exc
        return self._loaded[name], lock

    def embed(self, name: str, texts: list[str]):
        """``len(texts) × dimension`` unit float16 rows (the texts batched by length)."""
        model, lock = self._model(name)
        with lock:
            return model.embed(texts, batch_size=self.batch)

    def answer(self, raw: bytes) -> tuple[int, dict]:
        """The HTTP status and JSON body for one request body."""
        try:
            body = json.loads(raw)
        except ValueError as exc:
            return 400, {"error": ERR_JSON.format(reason=exc)}
        except RecursionError:  # json.loads on deep nesting (was a dropped connection)
            return 400, {"error": ERR_JSON.format(reason="it is nested too deep")}
        try:
            name, texts = embed_input_parse(body)
            rows = self.embed(name, texts)
        except EmbedRefused as exc:
            return exc.status, {"error": str(exc)}
        except Exception as exc:  # noqa: BLE001 - the caller gets an answer, the log the cause
            print(f"/embed failed: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
            return 500, {
                "error": f"the embedding failed on the serving engine ({type(exc).__name__})"
            }
        data = [
            {"object": "embedding", "index": i, "embedding": row.astype(float).tolist()}
            for i, row in enumerate(rows)
        ]
        return 200, {"object": "list", "data": data, "model": name}


def add_arguments(parser) -> None:
    parser.add_argument(
        "--embedding-model",
        action="append",
        default=[
            p.strip()
            for p in os.environ.get("FINETUNEDB_EMBEDDING_MODELS", "").split(",")
            if p.strip()
        ],
        help="a local embedding model folder served besides the bundled all-MiniLM-L6-v2 "
        "(default: FINETUNEDB_EMBEDDING_MODELS, comma-separated)",
    )


def service_from_args(args) -> EmbeddingService:
    return EmbeddingService(
        models_dir=args.models_dir, registered=args.embedding_model, device=args.device
    )
