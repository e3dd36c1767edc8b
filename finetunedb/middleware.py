"""Response headers every page and API answer carries."""

from django.http import HttpResponseNotAllowed

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
