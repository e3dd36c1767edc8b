"""The logging proxy's upstreams: named by the administrator, never by a caller.

``FINETUNEDB_UPSTREAMS`` (settings, from the environment as JSON) maps a name to
``{"base_url": "https://api.openai.com/v1", "api_key": "sk-..."}`` (or ``"api_key_env":
"OPENAI_API_KEY"``, the variable holding the key); a caller picks one with
``X-FinetuneDB-Upstream: <name>``. Requests go out with urllib and a timeout, carrying the
upstream's key and never the caller's credentials.
"""

from __future__ import annotations

import os
import urllib.error
import urllib.request
from dataclasses import dataclass

from django.conf import settings

from finetunedb.exceptions import ApplicationError

UNKNOWN_UPSTREAM = "No upstream named {name!r}; the administrator configured: {names}."
NO_UPSTREAM_HEADER = "Name the upstream with the X-FinetuneDB-Upstream header; configured: {names}."
NONE_CONFIGURED = "No upstream is configured (FINETUNEDB_UPSTREAMS); ask the administrator."
BAD_CONFIG = "{setting}[{name!r}] needs a base_url starting with http:// or https://."


@dataclass(frozen=True)
class Upstream:
    name: str
    base_url: str
    api_key: str


def upstream_get(name: str | None) -> Upstream:
    configured = getattr(settings, "FINETUNEDB_UPSTREAMS", {}) or {}
    names = ", ".join(sorted(configured)) or "none"
    if not configured:
        raise ApplicationError(NONE_CONFIGURED, code="no_upstream", status_code=503)
    if not name:
        raise ApplicationError(NO_UPSTREAM_HEADER.format(names=names), code="no_upstream")
    if name not in configured:
        raise ApplicationError(UNKNOWN_UPSTREAM.format(name=name, names=names), code="no_upstream")
    return upstream_from_entry(name, configured[name], setting="FINETUNEDB_UPSTREAMS")


def upstream_from_entry(name: str, entry, *, setting: str) -> Upstream:
    """One administrator-configured endpoint of ``setting`` (the proxy's upstreams, the
    evaluation's judges): an http(s) ``base_url`` and its key, inline (``api_key``) or read from
    the environment variable that ``api_key_env`` names."""
    base = str(entry.get("base_url", "")) if isinstance(entry, dict) else ""
    if not base.startswith(("http://", "https://")):
        message = BAD_CONFIG.format(setting=setting, name=name)
        raise ApplicationError(message, code="bad_upstream", status_code=503)
    key = str(entry.get("api_key", ""))
    if not key and entry.get("api_key_env"):
        key = os.environ.get(str(entry["api_key_env"]), "")
    return Upstream(name=name, base_url=base.rstrip("/"), api_key=key)


def upstream_open(upstream: Upstream, path: str, body: bytes, *, timeout: float):
    """POST ``body`` to the upstream; the open response (any status), or raises OSError."""
    request = urllib.request.Request(  # noqa: S310 (http(s) only, checked in upstream_get)
        upstream.base_url + path,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "Accept": "application/json, text/event-stream",
            **({"Authorization": f"Bearer {upstream.api_key}"} if upstream.api_key else {}),
        },
    )
    try:
        return urllib.request.urlopen(request, timeout=timeout)  # noqa: S310 (admin's URL)
    except urllib.error.HTTPError as error:
        return error  # an HTTP status from the upstream: passed through, not raised
