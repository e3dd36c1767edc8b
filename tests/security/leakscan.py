"""Checklist B16: every API response of the test run is scanned for things it must never hold.

``ResponseLeakMiddleware`` is installed by ``finetunedb.settings.test``, so every API call any
test makes (through the test client, the API client or the live server) goes through it. A
finding raises ``AssertionError`` inside the request; the test client re-raises it in the test
that made the call, so the leak fails that test wherever it is.
"""

import json
import re

from django.conf import settings

TOKEN_ENDPOINT = "/api/v1/auth/token/"
PASSWORD_HASH = re.compile(
    r"\b(pbkdf2_sha256|pbkdf2_sha1|argon2|bcrypt_sha256|bcrypt|scrypt|md5)\$"
)
RAW_TOKEN = re.compile(r"\bftdb_[A-Za-z0-9_-]{16,}")
TRACEBACK = re.compile(r"Traceback \(most recent call last\)|File \"/[^\"]+\.py\", line \d+")
PRIVATE_KEYS = frozenset({"password", "email", "stored_name", "digest", "secret_key"})
LEAK = "{path} leaks {what} at {where}: {value!r}"


def _private_dirs() -> list[str]:
    dirs = {str(settings.DATA_DIR), str(settings.BASE_DIR)}
    dirs.add(str(getattr(settings, "FINETUNEDB_MODELS_DIR", settings.DATA_DIR)))
    return sorted(d for d in dirs if len(d) > 1)


def findings(payload, *, token_allowed: bool = False) -> list[tuple[str, str, str]]:
    """(what, where, value) for every forbidden key or value anywhere in a decoded JSON body."""
    out = []
    dirs = _private_dirs()

    def visit(node, where):
        if isinstance(node, dict):
            for key, value in node.items():
                if isinstance(key, str) and key.lower() in PRIVATE_KEYS:
                    out.append(("a private field", f"{where}.{key}", str(value)[:80]))
                visit(value, f"{where}.{key}")
        elif isinstance(node, list):
            for index, value in enumerate(node):
                visit(value, f"{where}[{index}]")
        elif isinstance(node, str):
            checks = [
                ("a password hash", PASSWORD_HASH.search(node)),
                ("a traceback", TRACEBACK.search(node)),
                ("a storage path", next((d for d in dirs if d in node), None)),
            ]
            if not token_allowed:
                checks.append(("an API token", RAW_TOKEN.search(node)))
            out.extend((what, where, node[:80]) for what, hit in checks if hit)

    visit(payload, "$")
    return out


class ResponseLeakMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if not request.path.startswith("/api/") or response.streaming:
            return response
        if "json" not in response.get("Content-Type", ""):
            return response
        try:
            payload = json.loads(response.content)
        except ValueError:
            return response
        token_allowed = request.path == TOKEN_ENDPOINT and response.status_code == 200
        found = findings(payload, token_allowed=token_allowed)
        if found:
            what, where, value = found[0]
            raise AssertionError(
                LEAK.format(path=request.path, what=what, where=where, value=value)
            )
        return response
