"""OpenAI's chat-completions shapes: the request checked field by field (a bad field is a 400
naming it), the response object, stream chunks and error bodies. Plain data in and out."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field

ROLES = ("system", "developer", "user", "assistant", "tool")
MAX_STOPS = 4


class InvalidRequest(ValueError):
    def __init__(self, message: str, param: str | None):
        super().__init__(message)
        self.param = param


@dataclass
class ChatRequest:
    model: str
    messages: list[dict]
    temperature: float = 1.0
    top_p: float = 1.0
    max_tokens: int | None = None
    stop: list[str] = field(default_factory=list)
    seed: int | None = None
    stream: bool = False
    include_usage: bool = False
    tools: list | None = None
    tool_choice: object = None


def _number(body, name, default, low, high, *, low_open=False):
    value = body.get(name)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidRequest(f"{name} must be a number between {low} and {high}", name)
    if value > high or value < low or (low_open and value == low):
        raise InvalidRequest(f"{name} must be between {low} and {high}, got {value}", name)
    return float(value)


def _content(message: dict, index: int) -> str | None:
    content = message.get("content")
    if content is None or isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for part in content:
            if not isinstance(part, dict) or part.get("type") != "text":
                raise InvalidRequest(
                    f"messages[{index}].content: only text parts are supported",
                    f"messages[{index}].content",
                )
            parts.append(str(part.get("text", "")))
        return "".join(parts)
    raise InvalidRequest(
        f"messages[{index}].content must be a string or a list of text parts",
        f"messages[{index}].content",
    )


def _messages(value) -> list[dict]:
    if not isinstance(value, list) or not value:
        raise InvalidRequest("messages must be a non-empty list of messages", "messages")
    out = []
    for i, message in enumerate(value):
        if not isinstance(message, dict):
            raise InvalidRequest(f"messages[{i}] must be an object", f"messages[{i}]")
        role = message.get("role")
        if role not in ROLES:
            raise InvalidRequest(
                f"messages[{i}].role must be one of {', '.join(ROLES)}", f"messages[{i}].role"
            )
        clean = {"role": "system" if role == "developer" else role, "content": _content(message, i)}
        if clean["content"] is None and not message.get("tool_calls"):
            raise InvalidRequest(f"messages[{i}].content is required", f"messages[{i}].content")
        clean["content"] = clean["content"] or ""
        for key in ("name", "tool_calls", "tool_call_id"):
            if key in message:
                clean[key] = message[key]
        out.append(clean)
    return out


def chat_request_parse(body) -> ChatRequest:
    """A :class:`ChatRequest` from the decoded JSON body, or :class:`InvalidRequest`."""
    if not isinstance(body, dict):
        raise InvalidRequest("the body must be a JSON object", None)
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise InvalidRequest("model is required: a name from GET /v1/models", "model")
    n = body.get("n", 1)
    if n not in (1, None) or isinstance(n, bool):
        raise InvalidRequest("only n=1 is supported", "n")
    req = ChatRequest(model=model, messages=_messages(body.get("messages")))
    req.temperature = _number(body, "temperature", 1.0, 0, 2)
    req.top_p = _number(body, "top_p", 1.0, 0, 1, low_open=True)
    for name in ("max_completion_tokens", "max_tokens"):
        value = body.get(name)
        if value is not None:
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise InvalidRequest(f"{name} must be a positive integer", name)
            req.max_tokens = value
            break
    stop = body.get("stop")
    if isinstance(stop, str):
        stop = [stop]
    if stop is not None and (
        not isinstance(stop, list)
        or len(stop) > MAX_STOPS
        or not all(isinstance(s, str) and s for s in stop)
    ):
        raise InvalidRequest(f"stop must be a string or a list of up to {MAX_STOPS}", "stop")
    req.stop = stop or []
    seed = body.get("seed")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise InvalidRequest("seed must be an integer", "seed")
    req.seed = None if seed is None else seed % 2**63
    stream = body.get("stream", False)
    if not isinstance(stream, bool) and stream is not None:
        raise InvalidRequest("stream must be true or false", "stream")
    req.stream = bool(stream)
    options = body.get("stream_options") or {}
    if not isinstance(options, dict):
        raise InvalidRequest("stream_options must be an object", "stream_options")
    req.include_usage = bool(options.get("include_usage"))
    tools = body.get("tools")
    if tools is not None and not isinstance(tools, list):
        raise InvalidRequest("tools must be a list", "tools")
    req.tools = tools
    req.tool_choice = body.get("tool_choice")
    return req


def error_body(message: str, *, type: str, code: str | None = None, param: str | None = None):  # noqa: A002
    return {"error": {"message": message, "type": type, "code": code, "param": param}}


def completion_id() -> str:
    return "chatcmpl-" + uuid.uuid4().hex


def usage(done: dict) -> dict:
    prompt, completion = done.get("prompt_tokens", 0), done.get("completion_tokens", 0)
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


def completion_object(*, id: str, model: str, text: str, done: dict) -> dict:  # noqa: A002
    return {
        "id": id,
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "system_fingerprint": None,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "logprobs": None,
                "finish_reason": done.get("finish_reason", "stop"),
            }
        ],
        "usage": usage(done),
    }


def chunk_object(*, id: str, model: str, created: int, delta: dict, finish=None) -> dict:  # noqa: A002
    return {
        "id": id,
        "object": "chat.completion.chunk",
        "created": created,
        "model": model,
        "system_fingerprint": None,
        "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
    }
