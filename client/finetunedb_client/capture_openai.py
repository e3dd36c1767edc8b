"""``wrap_openai``: an ``openai.OpenAI`` client whose chat completions are also logged.

Used through :mod:`finetunedb_client.capture` (see its docstring). Streams are passed through
chunk by chunk, unchanged; the answer is assembled on the side and logged when the stream ends
(or is closed early). A call that raises is logged with its error and the exception goes on.
"""

from __future__ import annotations

import time

MESSAGE_KEYS = ("role", "content", "name", "tool_calls", "tool_call_id")
USAGE_KEYS = ("prompt_tokens", "completion_tokens", "total_tokens")


def _plain(value):
    """An openai object (pydantic) or a dict → plain JSON data."""
    if hasattr(value, "model_dump"):
        return value.model_dump(exclude_none=True)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _request_messages(messages) -> list[dict]:
    return [{k: v for k, v in _plain(m).items() if k in MESSAGE_KEYS} for m in (messages or [])]


def _response_message(completion: dict) -> dict | None:
    """The first choice's message, as the canonical format holds it (role, content,
    tool_calls): the server validates logs as it does examples."""
    choices = completion.get("choices") or []
    if not choices:
        return None
    message = choices[0].get("message") or {}
    out = {"role": "assistant", "content": message.get("content") or ""}
    if message.get("tool_calls"):
        out["tool_calls"] = [
            {"id": c.get("id"), "type": c.get("type", "function"), "function": c.get("function")}
            for c in message["tool_calls"]
        ]
    return out


class _Stream:
    """Iterates the original stream unchanged, assembling the answer; logs when it ends."""

    def __init__(self, stream, finish):
        self._stream = stream
        self._finish = finish
        self._content: list[str] = []
        self._tool_calls: dict[int, dict] = {}
        self._usage = None
        self._model = None
        self._done = False

    def __iter__(self):
        error = None
        try:
            for chunk in self._stream:
                self._take(chunk)
                yield chunk
        except Exception as exc:
            error = {"message": str(exc), "type": type(exc).__name__}
            raise
        finally:  # also when the caller stops early (the generator is closed)
            self._end(error=error)

    def _take(self, chunk) -> None:
        try:
            self._model = getattr(chunk, "model", None) or self._model
            if getattr(chunk, "usage", None):
                self._usage = _plain(chunk.usage)
            for choice in getattr(chunk, "choices", None) or []:
                if getattr(choice, "index", 0) != 0:
                    continue
                delta = choice.delta
                if getattr(delta, "content", None):
                    self._content.append(delta.content)
                for call in getattr(delta, "tool_calls", None) or []:
                    slot = self._tool_calls.setdefault(
                        call.index,
                        {"id": "", "type": "function", "function": {"name": "", "arguments": ""}},
                    )
                    slot["id"] = call.id or slot["id"]
                    if call.function is not None:
                        slot["function"]["name"] += call.function.name or ""
                        slot["function"]["arguments"] += call.function.arguments or ""
        except Exception:  # noqa: BLE001, S110 - an odd chunk must not break the stream
            pass

    def _end(self, error=None) -> None:
        if self._done:
            return
        self._done = True
        message = {"role": "assistant", "content": "".join(self._content)}
        if self._tool_calls:
            message["tool_calls"] = [self._tool_calls[i] for i in sorted(self._tool_calls)]
        self._finish(
            response=None if error else message, usage=self._usage, model=self._model, error=error
        )

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        close = getattr(self._stream, "close", None)
        if close:
            close()
        self._end()

    def __getattr__(self, name):
        return getattr(self._stream, name)


class _Completions:
    def __init__(self, completions, logger, tags, metadata):
        self._completions = completions
        self._logger = logger
        self._tags = tags
        self._metadata = metadata

    def __getattr__(self, name):
        return getattr(self._completions, name)

    def create(self, *args, log_tags=None, log_metadata=None, log_trace_id=None, **kwargs):
        messages = kwargs.get("messages")
        start = time.perf_counter()
        tags = list(self._tags) + list(log_tags or [])
        metadata = {**self._metadata, **(log_metadata or {})}

        def finish(*, response=None, usage=None, model=None, error=None):
            try:
                self._logger.log(
                    messages=_request_messages(messages),
                    tools=_plain(kwargs.get("tools")) or None,
                    response=response,
                    error=error,
                    model=model or kwargs.get("model"),
                    usage={k: v for k, v in (usage or {}).items() if k in USAGE_KEYS} or None,
                    latency_ms=int((time.perf_counter() - start) * 1000),
                    tags=tags,
                    metadata=metadata,
                    trace_id=log_trace_id,
                )
            except Exception:  # noqa: BLE001, S110 - never into the application
                pass

        try:
            result = self._completions.create(*args, **kwargs)
        except Exception as exc:
            finish(error={"message": str(exc), "type": type(exc).__name__})
            raise
        if kwargs.get("stream"):
            return _Stream(result, finish)
        try:
            completion = _plain(result)
            finish(
                response=_response_message(completion),
                usage=completion.get("usage"),
                model=completion.get("model"),
            )
        except Exception:  # noqa: BLE001, S110
            pass
        return result


class _Chat:
    def __init__(self, chat, completions):
        self._chat = chat
        self.completions = completions

    def __getattr__(self, name):
        return getattr(self._chat, name)


class _WrappedOpenAI:
    def __init__(self, client, chat):
        self._client = client
        self.chat = chat

    def __getattr__(self, name):
        return getattr(self._client, name)


def wrap_openai(client, logger, *, tags: list[str] | None = None, metadata: dict | None = None):
    """``client`` (an ``openai.OpenAI``) whose ``chat.completions.create`` also logs each call
    to ``logger``. Extra keyword arguments of ``create``: ``log_tags``, ``log_metadata``,
    ``log_trace_id`` (taken off before the call reaches openai). Everything else passes
    through unchanged, the returned objects and streams included."""
    completions = _Completions(
        client.chat.completions, logger, list(tags or []), dict(metadata or {})
    )
    return _WrappedOpenAI(client, _Chat(client.chat, completions))
