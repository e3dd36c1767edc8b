"""Response headers every page and API answer carries."""

import logging

from django.http import HttpResponseNotAllowed

logger = logging.getLogger(__name__)

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
