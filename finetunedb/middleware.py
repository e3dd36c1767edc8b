"""Response headers every page and API answer carries, and the request id every log line names."""

import logging

from django.http import HttpResponseNotAllowed
from django.utils.functional import empty

from .logs import (
    log_context_bind,
    log_context_fields,
    log_context_reset,
    request_id_accept,
    request_id_new,
)

logger = logging.getLogger(__name__)

REQUEST_ID_HEADER = "X-Request-ID"


def _known_user_id(request):
    """The user's id once authentication has run; never triggers a session or database read."""
    user = request.__dict__.get("user")
    if user is None or getattr(user, "_wrapped", None) is empty:
        return None
    return getattr(user, "pk", None)


def _route_team_id(request):
    match = getattr(request, "resolver_match", None)
    return match.kwargs.get("team_id") if match else None


def _bound_stream(chunks, fields):
    # A streamed body is produced after the view returns: bind the context around each chunk
    # so logs written while streaming (an export failing) still name their request.
    for_each = iter(chunks)
    while True:
        token = log_context_bind(**fields)
        try:
            chunk = next(for_each)
        except StopIteration:
            return
        finally:
            log_context_reset(token)
        yield chunk


class RequestIdMiddleware:
    """Names each request: a sane incoming ``X-Request-ID`` is kept, else one is generated.

    The id is bound to the log context with method, path (never the query string), user and
    team (once known) for every record logged while the request is served, and returned in the
    ``X-Request-ID`` response header. Outermost, so every answer carries it.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = request_id_accept(request.headers.get(REQUEST_ID_HEADER)) or request_id_new()
        request.request_id = request_id
        fields = {
            "request_id": request_id,
            "method": request.method,
            "path": request.path,
            "user_id": lambda: _known_user_id(request),
            "team_id": lambda: _route_team_id(request),
        }
        token = log_context_bind(**fields)
        try:
            response = self.get_response(request)
        finally:
            # Resolved now, for the records Django writes about the answer after we return.
            request.log_context = log_context_fields()
            log_context_reset(token)
        response[REQUEST_ID_HEADER] = request_id
        # A FileResponse goes to the server's sendfile path untouched; it logs nothing.
        file_backed = getattr(response, "file_to_stream", None) is not None
        if response.streaming and not response.is_async and not file_backed:
            response.streaming_content = _bound_stream(response.streaming_content, fields)
        return response


# Scripts and styles only from our own origin (htmx and app JS are vendored into static/), no
# inline script, no framing: user text that slips past escaping still cannot run.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


# The vendored Swagger UI page carries one inline <style> block; it shows no user text.
DOCS_POLICY = CONTENT_SECURITY_POLICY.replace(
    "style-src 'self'", "style-src 'self' 'unsafe-inline'"
)
DOCS_PATH = "/api/v1/docs/"


class SecurityHeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        policy = DOCS_POLICY if request.path == DOCS_PATH else CONTENT_SECURITY_POLICY
        response.setdefault("Content-Security-Policy", policy)
        response.setdefault("X-Content-Type-Options", "nosniff")
        response.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        return response


PAGE_METHODS = frozenset({"GET", "HEAD", "POST", "OPTIONS"})
API_PREFIX = "/api/"


class PageMethodsMiddleware:
    """HTML pages answer only the methods a browser form sends.

    Page views branch on ``request.method == "POST"`` and treat anything else as a read, so a
    PUT or DELETE would silently render the page; a 405 keeps the method matrix honest.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method not in PAGE_METHODS and not request.path.startswith(API_PREFIX):
            return HttpResponseNotAllowed(sorted(PAGE_METHODS))
        return self.get_response(request)


class DatabaseBusyMiddleware:
    """Pages answer a locked or unreachable database with a 503 and Retry-After, like the API,
    instead of a 500: the request changed nothing (its transaction rolled back) and can be retried."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        from django.db import OperationalError
        from django.shortcuts import render

        from .exceptions import DATABASE_BUSY, RETRY_AFTER_S

        if not isinstance(exception, OperationalError) or request.path.startswith("/api/"):
            return None
        logger.warning("database unavailable on a page: %s", exception)
        response = render(request, "503.html", {"message": DATABASE_BUSY}, status=503)
        response["Retry-After"] = str(RETRY_AFTER_S)
        return response
