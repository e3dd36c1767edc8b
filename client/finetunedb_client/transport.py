"""HTTP for the client: one ``requests.Session``, retries with backoff, errors as exceptions.

Retries: a request that may safely be sent twice (GET, HEAD, PUT, DELETE, OPTIONS, and a POST
that carries an ``Idempotency-Key``) is retried on 429 and 503 answers and on connection
errors, up to ``max_retries`` times, waiting what the server's ``Retry-After`` says or else an
exponential backoff with jitter (``backoff * 2**attempt``, capped at ``max_backoff``, each wait
drawn between half and all of it, so that many clients do not come back in step). Any other
POST, and every PATCH, is sent once: the client cannot know whether a lost answer stored it.
"""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urljoin

import requests

from . import __version__
from .errors import ConnectionFailed, FinetuneDBError, error_class

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
RETRY_STATUSES = frozenset({429, 503})
# A server's Retry-After past this is not waited for: the error is raised instead.
MAX_RETRY_AFTER_S = 300.0
API_PREFIX = "/api/v1/"


def retry_after_seconds(value: str | None) -> float | None:
    """``Retry-After`` as seconds from now: a number of seconds or an HTTP date (RFC 9110)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - time.time())


def backoff_delay(attempt: int, *, base: float, cap: float, rng=random) -> float:
    """The wait before retry ``attempt`` (0 first): ``min(cap, base * 2**attempt)``, jittered
    into its upper half."""
    full = min(cap, base * (2**attempt))
    return full / 2 + rng.uniform(0, full / 2)


def parse_body(response: requests.Response) -> Any:
    if not response.content:
        return None
    kind = response.headers.get("Content-Type", "")
    if "json" in kind:
        try:
            return response.json()
        except ValueError:
            pass
    return response.text[:2000]


def raise_for_response(response: requests.Response) -> None:
    if response.status_code < 400:
        return
    body = parse_body(response)
    if isinstance(body, dict) and isinstance(body.get("detail"), str):
        message = body["detail"]
    elif isinstance(body, dict) and isinstance(body.get("error"), dict):
        message = str(body["error"].get("message", response.reason))  # OpenAI-shaped (/v1)
    else:
        message = response.reason or f"HTTP {response.status_code}"
    raise error_class(response.status_code)(
        message,
        status=response.status_code,
        body=body,
        headers=dict(response.headers),
        method=response.request.method if response.request else None,
        url=response.url,
        retry_after=retry_after_seconds(response.headers.get("Retry-After")),
    )


class Transport:
    """Sends requests to one server. ``url`` is the server's root (``http://host:8000``)."""

    def __init__(
        self,
        url: str,
        token: str | None = None,
        *,
        timeout: float = 60.0,
        max_retries: int = 5,
        backoff: float = 0.5,
        max_backoff: float = 30.0,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.session = session or requests.Session()
        self.session.headers.setdefault("User-Agent", f"finetunedb-client/{__version__}")
        self.sleep = sleep
        self.retries = 0  # how many retries this transport made (for scripts and tests)
        self.token = token

    @property
    def token(self) -> str | None:
        return self._token

    @token.setter
    def token(self, value: str | None) -> None:
        self._token = value
        if value:
            self.session.headers["Authorization"] = f"Token {value}"
        else:
            self.session.headers.pop("Authorization", None)

    def absolute(self, path: str) -> str:
        """``datasets/`` → ``<url>/api/v1/datasets/``; ``/v1/models`` and full URLs as given."""
        if path.startswith(("http://", "https://")):
            return path
        if path.startswith("/"):
            return urljoin(self.url + "/", path.lstrip("/"))
        return self.url + API_PREFIX + path

    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict | None = None,
        json: Any = None,
        data: Any = None,
        headers: dict | None = None,
        stream: bool = False,
        timeout: float | None = None,
        retry: bool | None = None,
    ) -> requests.Response:
        """Send, retrying where that is safe (see the module docstring), and raise the matching
        :class:`~finetunedb_client.errors.FinetuneDBError` for a 4xx/5xx answer."""
        method = method.upper()
        headers = dict(headers or {})
        if retry is None:
            retry = method in IDEMPOTENT_METHODS or "Idempotency-Key" in headers
        if data is not None and hasattr(data, "read"):
            retry = False  # a stream cannot be sent twice
        url = self.absolute(path)
        attempt = 0
        while True:
            try:
                response = self.session.request(
                    method,
                    url,
                    params=_clean(params),
                    json=json,
                    data=data,
                    headers=headers,
                    stream=stream,
                    timeout=timeout or self.timeout,
                )
            except (requests.ConnectionError, requests.Timeout) as exc:
                if retry and attempt < self.max_retries:
                    self._wait(attempt, None)
                    attempt += 1
                    continue
                raise ConnectionFailed(
                    f"Could not reach {self.url}: {exc.__class__.__name__}: {exc}",
                    method=method,
                    url=url,
                ) from exc
            if response.status_code in RETRY_STATUSES and retry and attempt < self.max_retries:
                after = retry_after_seconds(response.headers.get("Retry-After"))
                if after is None or after <= MAX_RETRY_AFTER_S:
                    response.close()
                    self._wait(attempt, after)
                    attempt += 1
                    continue
            try:
                raise_for_response(response)
            except FinetuneDBError:
                response.close()
                raise
            return response

    def _wait(self, attempt: int, retry_after: float | None) -> None:
        self.retries += 1
        if retry_after is not None:
            self.sleep(retry_after)
        else:
            self.sleep(backoff_delay(attempt, base=self.backoff, cap=self.max_backoff))

    def json(self, method: str, path: str, **kwargs) -> Any:
        response = self.request(method, path, **kwargs)
        return parse_body(response) if response.status_code != 204 else None


def _clean(params: dict | None) -> dict | None:
    """Leave out None values; booleans as the API reads them (1/0)."""
    if not params:
        return None
    out = {}
    for key, value in params.items():
        if value is None:
            continue
        out[key] = (1 if value else 0) if isinstance(value, bool) else value
    return out
