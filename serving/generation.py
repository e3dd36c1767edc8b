"""The app's own generation jobs (the playground, eval runs) through the serving engine.

A job uses the engine when one is configured (``FINETUNEDB_SERVING_URL``, which ``make run``
and the stack set) and answers ``/health``; otherwise (the test suite, CI, a worker without an
engine beside it) the job loads the model itself as before. :func:`engine_ready` is that one
choice. Requests of one batch are submitted at once, each from its own thread, so the engine
decodes them together; a full engine (429/503) is waited for, as a background job can wait.
"""

from __future__ import annotations

import http.client
import json
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

from .client import EngineRefused, EngineUnavailable, engine_stream
from .conf import RETRY_AFTER_S, engine_configured_url, engine_kind

HEALTH_TIMEOUT_S = 2.0
# How long a job waits for room in a full engine before the job fails.
BUSY_WAIT_S = 600
ENGINE_ERROR = "the model server failed: {detail}"
# A team's jobs count against a concurrency cap of their own in the engine, so an eval run's
# batch never makes the team's production calls (/v1) answer 429.
JOBS_CAP = "jobs:{team}"


class EngineFailed(RuntimeError):
    pass


def engine_ready() -> bool:
    """Whether jobs generate through the engine: configured, and answering ``/health`` (or,
    for vLLM, ``/v1/models``)."""
    if engine_kind() == "vllm":
        from .vllm_client import vllm_ready

        return vllm_ready()
    url = engine_configured_url()
    if not url:
        return False
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port or 80, timeout=HEALTH_TIMEOUT_S)
    try:
        conn.request("GET", "/health")
        response = conn.getresponse()
        return response.status == 200 and bool(json.loads(response.read() or b"{}").get("ok"))
    except (OSError, ValueError, http.client.HTTPException):
        return False
    finally:
        conn.close()


def engine_complete(payload: dict) -> str:
    """The engine's whole answer to one ``/generate`` payload (stripped, as the in-process
    generation strips); waits while the engine is full, raises :class:`EngineFailed` else."""
    deadline = time.monotonic() + BUSY_WAIT_S
    while True:
        try:
            stream = engine_stream(payload)
            break
        except EngineRefused as exc:
            if exc.status not in (429, 503) or time.monotonic() > deadline:
                raise EngineFailed(ENGINE_ERROR.format(detail=exc)) from exc
        except EngineUnavailable as exc:
            raise EngineFailed(ENGINE_ERROR.format(detail=exc)) from exc
        time.sleep(RETRY_AFTER_S)
    parts = []
    try:
        for kind, value in stream:
            if kind == "delta":
                parts.append(value)
            elif kind == "error":
                raise EngineFailed(ENGINE_ERROR.format(detail=value))
    finally:
        stream.close()
    return "".join(parts).strip()


def engine_generate_batch(
    conversations: list[list[dict]],
    *,
    base: str,
    adapter: str | None,
    team: str,
    max_new_tokens: int,
    store: dict | None = None,
    temperature: float = 0.0,
    seed: int = 0,
    batch_size: int = 8,
    on_batch=None,
) -> list[str | None]:
    """:func:`training.recipe.evaluate.generate_batch`'s contract through the engine: answers
    in the conversations' order, ``batch_size`` submitted together, ``on_batch(indices,
    answers)`` after each batch (True stops; the rest stay None). Sampling seeds each item
    with ``seed + index``, so an item's answer does not depend on its batch."""
    answers: list[str | None] = [None] * len(conversations)

    def one(i: int) -> str:
        return engine_complete(
            {
                "base": base,
                "adapter": adapter,
                "store": store,
                "messages": conversations[i],
                "max_tokens": max_new_tokens,
                "temperature": temperature,
                "top_p": 1.0,
                "seed": seed + i,
                "team": JOBS_CAP.format(team=team),
            }
        )

    with ThreadPoolExecutor(max_workers=max(1, batch_size)) as pool:
        for start in range(0, len(conversations), batch_size):
            chunk = list(range(start, min(start + batch_size, len(conversations))))
            done = list(pool.map(one, chunk))
            for i, answer in zip(chunk, done, strict=True):
                answers[i] = answer
            if on_batch is not None and on_batch(chunk, done):
                break
    return answers


def engine_playground(artifact, messages: list[dict], *, max_new_tokens: int) -> dict[str, str]:
    """The playground's two greedy answers, ``{"base", "finetuned"}``, from the engine: the
    fine-tuned model (its adapter on the base, or its full weights) and the base it was
    trained from, asked at once."""
    from .selectors import served_model_for_artifact

    served = served_model_for_artifact(artifact)
    common = {"messages": messages, "max_tokens": max_new_tokens, "temperature": 0.0}
    team = JOBS_CAP.format(team=f"team-{served.team_id}")
    payloads = {
        "finetuned": {
            **common,
            "base": served.base,
            "adapter": served.adapter,
            "store": served.store,
            "team": team,
        },
        "base": {**common, "base": artifact.run.base_model, "adapter": None, "team": team},
    }
    with ThreadPoolExecutor(max_workers=2) as pool:
        answers = dict(zip(payloads, pool.map(engine_complete, payloads.values()), strict=True))
    return {"base": answers["base"], "finetuned": answers["finetuned"]}
