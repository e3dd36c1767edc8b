"""The one outbound HTTP client for URLs a user typed (webhook endpoints): SSRF-safe, pure.

* only ``http`` and ``https``, no user:password in the URL, a host and at most 2,000 characters;
* the host is resolved once, and every address it resolves to must be public: loopback,
  private, link-local (169.254.169.254, the cloud metadata address), multicast, reserved,
  unspecified, shared (100.64/10) and the IPv6 forms of those (an IPv4-mapped ``::ffff:a.b.c.d``
  is judged by its IPv4 address) are refused, unless ``allow_private`` (the
  ``FINETUNEDB_WEBHOOKS_ALLOW_PRIVATE`` setting; tests use it on loopback). Numeric forms
  the resolver accepts (``2130706433``, ``0177.0.0.1``) resolve to the address they name and are
  judged by it;
* the connection goes to the address that was checked (the socket is opened on the IP; the name
  is kept only for the ``Host`` header and TLS's SNI and certificate check), so a second DNS
  answer between check and connect cannot redirect it;
* redirects are never followed (a 3xx is an answer like any other), the connection times out
  after 3 s and the whole exchange after 10 s, and at most ``READ_CAP`` bytes of the answer are
  read.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

MAX_URL = 2000
CONNECT_TIMEOUT, TOTAL_TIMEOUT = 3.0, 10.0
READ_CAP = 4096
SHARED = ipaddress.ip_network("100.64.0.0/10")

BAD_SCHEME = "The URL must start with http:// or https://."
BAD_URL = "The URL is not valid: {reason}."
TOO_LONG = f"The URL is longer than {MAX_URL} characters."
CREDENTIALS = "Leave user names and passwords out of the URL; verify the signature instead."
UNRESOLVED = "The host {host!r} could not be resolved."
PRIVATE = (
    "The host {host!r} resolves to {address}, a {kind} address; webhooks go only to public "
    "addresses (an administrator can allow private ones with FINETUNEDB_WEBHOOKS_ALLOW_PRIVATE)."
)


class UnsafeUrl(ValueError):
    """The URL may not be fetched; the message says why, for the person who typed it."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str  # as typed (Host header, SNI)
    port: int
    path: str  # path + query
    address: str  # the checked IP the socket connects to


@dataclass(frozen=True)
class Answer:
    status: int
    head: bytes  # the first READ_CAP bytes of the body at most


def address_kind(address: str) -> str | None:
    """Why ``address`` is not public ("loopback", "private", …), or None when it is."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        mapped = ip.ipv4_mapped or ip.sixtofour
        if mapped is not None:
            return address_kind(str(mapped))
    for kind, bad in (
        ("unspecified", ip.is_unspecified),
        ("loopback", ip.is_loopback),
        ("link-local", ip.is_link_local),
        ("multicast", ip.is_multicast),
        ("private", ip.is_private),
        ("reserved", ip.is_reserved),
        ("shared", isinstance(ip, ipaddress.IPv4Address) and ip in SHARED),
        ("non-global", not ip.is_global),
    ):
        if bad:
            return kind
    return None


def url_parse(url: str) -> tuple[str, str, int, str]:
    """(scheme, host, port, path) of an http(s) URL, or UnsafeUrl."""
    if not isinstance(url, str) or not url:
        raise UnsafeUrl(BAD_SCHEME)
    if len(url) > MAX_URL:
        raise UnsafeUrl(TOO_LONG)
    if any(c.isspace() or ord(c) < 32 for c in url):
        raise UnsafeUrl(BAD_URL.format(reason="it contains spaces or control characters"))
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise UnsafeUrl(BAD_URL.format(reason=error)) from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise UnsafeUrl(BAD_SCHEME)
    if parts.username is not None or parts.password is not None:
        raise UnsafeUrl(CREDENTIALS)
    host = parts.hostname
    if not host:
        raise UnsafeUrl(BAD_URL.format(reason="it names no host"))
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return scheme, host, port or (443 if scheme == "https" else 80), path


def url_resolve(url: str, *, allow_private: bool) -> Target:
    """Parse and resolve ``url``; a Target whose address passed the check, or UnsafeUrl."""
    scheme, host, port, path = url_parse(url)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, OSError):
        raise UnsafeUrl(UNRESOLVED.format(host=host)) from None
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    if not addresses:
        raise UnsafeUrl(UNRESOLVED.format(host=host))
    for address in addresses:  # every answer: a name with one private address is refused
        kind = address_kind(address)
        if kind in ("unspecified", "multicast") or (kind and not allow_private):
            raise UnsafeUrl(PRIVATE.format(host=host, address=address, kind=kind))
    return Target(scheme=scheme, host=host, port=port, path=path, address=addresses[0])


def _connect(address: str, port: int) -> socket.socket:
    """A socket connected to the numeric ``address`` itself: no name lookup happens here."""
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.settimeout(CONNECT_TIMEOUT)
    try:
        sock.connect((address, port))
    except BaseException:
        sock.close()
        raise
    return sock


class _PinnedHTTP(http.client.HTTPConnection):
    def __init__(self, target: Target, timeout: float):
        super().__init__(target.host, target.port, timeout=timeout)
        self._address = target.address

    def connect(self):
        self.sock = _connect(self._address, self.port)
        self.sock.settimeout(self.timeout)


class _PinnedHTTPS(http.client.HTTPSConnection):
    def __init__(self, target: Target, timeout: float):
        super().__init__(target.host, target.port, timeout=timeout)
        self._address = target.address
        self._ssl = ssl.create_default_context()

    def connect(self):
        sock = _connect(self._address, self.port)
        sock.settimeout(self.timeout)
        self.sock = self._ssl.wrap_socket(sock, server_hostname=self.host)


def post(target: Target, body: bytes, headers: dict[str, str]) -> Answer:
    """POST ``body`` to the checked address; the answer (any status, redirects not followed),
    or OSError (refused, timed out, TLS) — the caller logs it and retries."""
    deadline = time.monotonic() + TOTAL_TIMEOUT
    kind = _PinnedHTTPS if target.scheme == "https" else _PinnedHTTP
    connection = kind(target, timeout=TOTAL_TIMEOUT)
    try:
        connection.request("POST", target.path, body=body, headers=headers)
        sock = connection.sock  # the response keeps reading from it after the connection lets go
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        response = connection.getresponse()
        head = b""
        while len(head) < READ_CAP:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no complete answer within {TOTAL_TIMEOUT:g} s")
            sock.settimeout(left)
            chunk = response.read1(READ_CAP - len(head))
            if not chunk:
                break
            head += chunk
        return Answer(status=response.status, head=head)
    except http.client.HTTPException as error:
        raise OSError(f"bad HTTP answer: {error.__class__.__name__}") from None
    finally:
        connection.close()
