"""``GET /v1/models`` and ``POST /v1/chat/completions`` (DESIGN §8), OpenAI-compatible.

The views parse and delegate: the caller is authenticated from ``Authorization: Bearer``, the
model is found through :mod:`serving.selectors` (team scoping), and the engine worker generates
(serving/engine, never in this process). Every error is OpenAI-shaped, never a 500 or a hang.
"""

from __future__ import annotations

import json
import time

from django.http import JsonResponse, StreamingHttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST
from rest_framework.exceptions import AuthenticationFailed

from capture.authentication import IngestKeyAuthentication
from finetunedb.teams.rate_limits import caller_key, rate_limit_hit
from serving.authentication import BearerTokenAuthentication
from serving.client import EngineRefused, EngineStream, EngineUnavailable, engine_stream
from serving.conf import RETRY_AFTER_S, max_body_bytes
from serving.openai_format import (
    InvalidRequest,
    chat_request_parse,
    chunk_object,
    completion_id,
    completion_object,
    error_body,
    usage,
)
from serving.selectors import (
    ModelNotFound,
    served_model_get_for_caller,
    served_model_list_for_caller,
)
from serving.services import served_call_log, served_call_team

NO_AUTH = (
    "You didn't provide an API key: send 'Authorization: Bearer <token>' with a personal API "
    "token (Settings -> API tokens)."
)
BAD_JSON = "The body is not valid JSON: {reason}"
TOO_LARGE = "The request body is larger than {limit} bytes."
BUSY = "The model server is busy; retry after {s} seconds."
TEAM_BUSY = "Too many requests of this team are running at once; retry after {s} seconds."
ENGINE_FAILED = "The model server could not answer: {detail}"
CLIENT_LEFT = "the client closed the stream before the answer was complete"
INTERRUPTED = "The model server stopped in the middle of the answer: {detail}"


def _error(status, message, *, type, code=None, param=None, retry=False):  # noqa: A002
    response = JsonResponse(error_body(message, type=type, code=code, param=param), status=status)
    if retry:
        response["Retry-After"] = str(RETRY_AFTER_S)
    return response


def _caller(request):
    """((user or None, ingest key or None), None) or (None, a 401 or 429 response): a personal
    API token, or a team ingest key (its team's models only), within its requests per minute."""
    try:
        result = IngestKeyAuthentication().authenticate(request)
        if result is None:
            result = BearerTokenAuthentication().authenticate(request)
            if result is not None:
                result = (result[0], None, result[1])
        else:
            result = (None, result[1], result[1])
    except AuthenticationFailed as exc:
        return None, _error(
            401, str(exc.detail), type="invalid_request_error", code="invalid_api_key"
        )
    if result is None:
        return None, _error(401, NO_AUTH, type="invalid_request_error", code="invalid_api_key")
    user, key, secret = result
    decision = rate_limit_hit(scope="v1", key=caller_key(user=user, auth=secret))
    if not decision.allowed:
        response = _error(429, decision.message, type="requests", code="rate_limit_exceeded")
        for name, value in decision.headers().items():
            response[name] = value
        return None, response
    return (user, key), None


@csrf_exempt
@require_GET
def models_list(request):
    caller, failed = _caller(request)
    if failed:
        return failed
    user, key = caller
    data = [
        {"id": m.id, "object": "model", "created": m.created, "owned_by": m.owned_by}
        for m in served_model_list_for_caller(user or key)
    ]
    return JsonResponse({"object": "list", "data": data})


@csrf_exempt
@require_POST
def chat_completions(request):
    caller, failed = _caller(request)
    if failed:
        return failed
    user, key = caller
    limit = max_body_bytes()
    if int(request.META.get("CONTENT_LENGTH") or 0) > limit:
        return _error(413, TOO_LARGE.format(limit=limit), type="invalid_request_error")
    try:
        body = json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError) as exc:
        return _error(400, BAD_JSON.format(reason=exc), type="invalid_request_error")
    try:
        chat = chat_request_parse(body)
    except InvalidRequest as exc:
        return _error(400, str(exc), type="invalid_request_error", param=exc.param)
    try:
        model = served_model_get_for_caller(user or key, chat.model)
    except ModelNotFound as exc:
        return _error(
            404, str(exc), type="invalid_request_error", code="model_not_found", param="model"
        )
    payload = {
        "base": model.base,
        "adapter": model.adapter,
        "store": model.store,
        "messages": chat.messages,
        "tools": chat.tools,
        "tool_choice": chat.tool_choice,
        "max_tokens": chat.max_tokens,
        "temperature": chat.temperature,
        "top_p": chat.top_p,
        "stop": chat.stop,
        "seed": chat.seed,
        # The per-team cap: a fine-tuned model counts against its team, a base model against
        # the caller (a base belongs to no team).
        "team": f"team-{model.team_id}" if model.team_id else _caller_key(user, key),
    }
    started = time.perf_counter()
    try:
        stream = engine_stream(payload)
    except EngineUnavailable as exc:
        return _error(503, str(exc), type="server_error", code="engine_unavailable", retry=True)
    except EngineRefused as exc:
        return _refused(exc)

    def log(text, done, error=None):
        served_call_log(
            team=served_call_team(model=model, user=user, ingest_key=key),
            model_id=model.id,
            messages=chat.messages,
            tools=chat.tools,
            text=text,
            done=done,
            error=error,
            latency_ms=(time.perf_counter() - started) * 1000,
            ingest_key=key,
        )

    if chat.stream:
        response = StreamingHttpResponse(
            _sse(stream, chat, model.id, log), content_type="text/event-stream"
        )
        response["Cache-Control"] = "no-cache"
        response["X-Accel-Buffering"] = "no"
        return response
    return _complete(stream, model.id, log)


def _caller_key(user, key) -> str:
    return f"user-{user.pk}" if user is not None else f"team-{key.team_id}"


def _refused(exc: EngineRefused):
    if exc.status == 400:
        param = "max_tokens" if "max_tokens" in str(exc) else "messages"
        return _error(400, str(exc), type="invalid_request_error", param=param)
    if exc.status == 404:
        return _error(
            404, str(exc), type="invalid_request_error", code="model_not_found", param="model"
        )
    if exc.status == 429:
        return _error(
            429,
            TEAM_BUSY.format(s=RETRY_AFTER_S),
            type="rate_limit_error",
            code="rate_limit_exceeded",
            retry=True,
        )
    if exc.status == 503:
        return _error(
            503, BUSY.format(s=RETRY_AFTER_S), type="server_error", code="server_busy", retry=True
        )
    return _error(
        503, ENGINE_FAILED.format(detail=exc), type="server_error", code="engine_error", retry=True
    )


def _complete(stream: EngineStream, model_id: str, log):
    parts, done = [], None
    try:
        for kind, value in stream:
            if kind == "delta":
                parts.append(value)
            elif kind == "done":
                done = value
            else:
                log(None, None, error=value)
                return _error(
                    503,
                    INTERRUPTED.format(detail=value),
                    type="server_error",
                    code="engine_error",
                    retry=True,
                )
    finally:
        stream.close()
    text = "".join(parts)
    log(text, done)
    return JsonResponse(completion_object(id=completion_id(), model=model_id, text=text, done=done))


def _sse(stream: EngineStream, chat, model_id: str, log):
    """OpenAI's chunks as server-sent events; closing this generator (the client went away)
    hangs up on the engine, which stops generating at the next token."""
    cid, created = completion_id(), int(time.time())
    parts, failure = [], CLIENT_LEFT

    def event(obj) -> bytes:
        return b"data: " + json.dumps(obj).encode() + b"\n\n"

    def chunk(delta, finish=None) -> bytes:
        return event(
            chunk_object(id=cid, model=model_id, created=created, delta=delta, finish=finish)
        )

    try:
        yield chunk({"role": "assistant", "content": ""})
        for kind, value in stream:
            if kind == "delta":
                parts.append(value)
                yield chunk({"content": value})
            elif kind == "done":
                # Logged before the last chunks: a client may stop reading at [DONE].
                failure = None
                log("".join(parts), value)
                yield chunk({}, finish=value["finish_reason"])
                if chat.include_usage:
                    body = chunk_object(id=cid, model=model_id, created=created, delta={})
                    yield event({**body, "choices": [], "usage": usage(value)})
            else:
                failure = value
                detail = INTERRUPTED.format(detail=value)
                yield event(error_body(detail, type="server_error", code="engine_error"))
                return
        yield b"data: [DONE]\n\n"
    finally:
        stream.close()
        if failure is not None:
            log(None, None, error=failure)
