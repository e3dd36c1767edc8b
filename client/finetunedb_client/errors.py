"""Exceptions carrying what the API said.

Every API error body has one shape, ``{"detail", "code", "errors": [{"path", "message", …}]}``
(an import's bad lines and a log batch's bad entries add ``line`` / ``index``). An exception
keeps the HTTP status, that body, and the first field or line it names, so a script can print
``err.path`` or ``err.line`` without digging::

    try:
        client.create_example(dataset_id, messages=[{"role": "robot", "content": "hi"}])
    except ValidationError as err:
        print(err.status, err.path, err.message)   # 400 messages[0].role ...
"""

from __future__ import annotations

from typing import Any


class FinetuneDBError(Exception):
    """An error answer of the API (or, for subclasses below, of the client itself).

    ``status`` the HTTP status (None when no answer came), ``body`` the parsed JSON body (or the
    text when it was not JSON), ``detail`` and ``code`` from it, ``errors`` the list of problems,
    ``path`` / ``line`` / ``index`` of the first problem that names one, ``retry_after`` in
    seconds when the server sent Retry-After, ``headers`` the answer's headers."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        body: Any = None,
        headers: dict | None = None,
        method: str | None = None,
        url: str | None = None,
        retry_after: float | None = None,
    ):
        super().__init__(message)
        self.message = message
        self.status = status
        self.body = body
        self.headers = dict(headers or {})
        self.method = method
        self.url = url
        self.retry_after = retry_after
        data = body if isinstance(body, dict) else {}
        self.detail = data.get("detail", message if body is None else None)
        self.code = data.get("code")
        errors = data.get("errors")
        self.errors: list[dict] = [e for e in errors if isinstance(e, dict)] if errors else []
        self.path = _first(self.errors, "path")
        self.line = _first(self.errors, "line")
        self.index = _first(self.errors, "index")

    def __str__(self) -> str:
        head = f"{self.status} {self.message}" if self.status else self.message
        if self.path and self.path != "$":
            where = f"line {self.line}: " if self.line is not None else ""
            first = next(e for e in self.errors if e.get("path") is not None)
            return f"{head} ({where}{self.path}: {first.get('message', '')})"
        if self.line is not None:
            return f"{head} (line {self.line})"
        return head


def _first(errors: list[dict], key: str):
    for error in errors:
        if error.get(key) is not None:
            return error[key]
    return None


class ValidationError(FinetuneDBError):
    """400: the request was invalid; nothing was stored. ``errors`` names each field."""


class AuthenticationError(FinetuneDBError):
    """401: no token, or a revoked or wrong one (``finetunedb login`` again)."""


class PermissionDenied(FinetuneDBError):
    """403: your role in the team does not allow this."""


class NotFound(FinetuneDBError):
    """404: no such object, or it belongs to a team you are not in (the API does not say which)."""


class Conflict(FinetuneDBError):
    """409: the object's state forbids it now (e.g. error-level findings block a freeze)."""


class PreconditionFailed(FinetuneDBError):
    """412: the If-Match ETag is stale; read the object again."""


class PreconditionRequired(FinetuneDBError):
    """428: the route needs an If-Match header."""


class PayloadTooLarge(FinetuneDBError):
    """413: the body (an upload, a batch) is larger than the server accepts, or a team quota."""


class RateLimited(FinetuneDBError):
    """429: too many requests; ``retry_after`` says when to try again."""


class ServerError(FinetuneDBError):
    """5xx: the server failed; ``ServiceUnavailable`` (503) is worth retrying later."""


class ServiceUnavailable(ServerError):
    """503: the server is busy (its database locked, …); ``retry_after`` says when to retry."""


class ConnectionFailed(FinetuneDBError):
    """No answer: the server could not be reached or did not answer in time (``status`` None)."""


class JobFailed(FinetuneDBError):
    """A job (import, dedup, freeze, training or eval run) ended ``failed`` or ``cancelled``.

    ``job`` is its last state; ``reason`` its ``failure_reason``; ``errors`` its first errors."""

    def __init__(self, job, message: str):
        errors = getattr(job, "first_errors", None) or getattr(job, "failure_details", None) or []
        super().__init__(message, body={"detail": message, "errors": errors})
        self.job = job
        self.reason = getattr(job, "failure_reason", "") or ""


class JobTimeout(FinetuneDBError):
    """``wait(timeout=…)`` ran out before the job finished (the job goes on on the server)."""

    def __init__(self, job, message: str):
        super().__init__(message)
        self.job = job


STATUS_ERRORS: dict[int, type[FinetuneDBError]] = {
    400: ValidationError,
    401: AuthenticationError,
    403: PermissionDenied,
    404: NotFound,
    409: Conflict,
    412: PreconditionFailed,
    413: PayloadTooLarge,
    428: PreconditionRequired,
    429: RateLimited,
    503: ServiceUnavailable,
}


def error_class(status: int) -> type[FinetuneDBError]:
    if status in STATUS_ERRORS:
        return STATUS_ERRORS[status]
    return ServerError if status >= 500 else FinetuneDBError
