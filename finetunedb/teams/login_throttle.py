"""Failed sign-ins counted per client address and username in the shared cache.

Django's login views (ours and the admin's) have no brute-force limit of their own. After ``FINETUNEDB_LOGIN_FAILURE_LIMIT``
failures for one (address, username) pair — or five times that many from one address across
usernames — within ``FINETUNEDB_LOGIN_FAILURE_WINDOW`` seconds, further attempts are refused
(the page answers 429) until the window passes. A successful sign-in clears the pair's count.
The sign-in page and the admin's share one count: :class:`ThrottledLoginMixin` is the only
way a login form reaches ``authenticate``.
"""

from __future__ import annotations

import hashlib

from django import forms
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.cache import cache
from rest_framework.throttling import BaseThrottle

TOO_MANY_ATTEMPTS = "Too many failed sign-ins. Wait a few minutes and try again."
DEFAULT_LIMIT = 10
DEFAULT_WINDOW_S = 300
PER_ADDRESS_FACTOR = 5


def _limit() -> int:
    return int(getattr(settings, "FINETUNEDB_LOGIN_FAILURE_LIMIT", DEFAULT_LIMIT))


def _window() -> int:
    return int(getattr(settings, "FINETUNEDB_LOGIN_FAILURE_WINDOW", DEFAULT_WINDOW_S))


def _keys(address: str, username: str) -> tuple[str, str]:
    pair = hashlib.sha256(f"{address}\0{username.strip().lower()}".encode()).hexdigest()
    return (
        f"login-fail:pair:{pair}",
        f"login-fail:addr:{hashlib.sha256(address.encode()).hexdigest()}",
    )


def client_address(request) -> str:
    """The client's address as the API throttles see it (honours ``NUM_PROXIES``)."""
    if request is None:
        return ""
    return BaseThrottle().get_ident(request) or ""


def login_blocked(address: str, username: str) -> bool:
    pair, addr = _keys(address, username)
    limit = _limit()
    return cache.get(pair, 0) >= limit or cache.get(addr, 0) >= limit * PER_ADDRESS_FACTOR


def login_failed(address: str, username: str) -> None:
    for key in _keys(address, username):
        # add() starts the window on the first failure; incr() keeps its expiry.
        if not cache.add(key, 1, timeout=_window()):
            try:
                cache.incr(key)
            except ValueError:
                cache.set(key, 1, timeout=_window())


def login_succeeded(address: str, username: str) -> None:
    cache.delete(_keys(address, username)[0])


class ThrottledLoginMixin:
    """For an ``AuthenticationForm``: refuse further attempts after repeated failures."""

    throttled = False

    def clean(self):
        address = client_address(self.request)
        username = self.data.get("username", "") or ""
        if login_blocked(address, username):
            self.throttled = True
            raise forms.ValidationError(TOO_MANY_ATTEMPTS, code="throttled")
        try:
            cleaned = super().clean()
        except forms.ValidationError:
            login_failed(address, username)
            raise
        login_succeeded(address, username)
        return cleaned


class AdminLoginForm(ThrottledLoginMixin, AdminAuthenticationForm):
    """The admin's sign-in form under the same limit as the sign-in page."""


def admin_address_allowed(request) -> bool:
    """Whether ``FINETUNEDB_ADMIN_ALLOWED_IPS`` (empty: every address) lets this client in."""
    allowed = getattr(settings, "FINETUNEDB_ADMIN_ALLOWED_IPS", [])
    return not allowed or client_address(request) in allowed
