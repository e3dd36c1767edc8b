"""``Authorization: Token <value>`` against hashed API tokens."""

import hashlib
import secrets
from datetime import timedelta

from django.utils import timezone
from rest_framework import authentication, exceptions

from .models import ApiToken

INVALID_TOKEN = "Invalid or revoked token."
PASSWORD_CHANGE_REVOKES = "Changing a password revokes every API token of the account."
# last_used_at is informational; writing it on every request would serialize API traffic on SQLite.
LAST_USED_GRANULARITY = timedelta(minutes=5)


def token_digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def secret_issue(kind_prefix: str) -> tuple[str, dict]:
    """A new secret for a :class:`~finetunedb.teams.models.HashedSecret` row: ``(raw value,
    the row's prefix and digest fields)``. The raw value is returned once and never stored."""
    raw = kind_prefix + secrets.token_urlsafe(32)
    return raw, {"prefix": raw[:12], "digest": token_digest(raw)}


def last_used_touch(row) -> None:
    """Record a secret's use, at most once per LAST_USED_GRANULARITY (see there why)."""
    now = timezone.now()
    if row.last_used_at is None or now - row.last_used_at > LAST_USED_GRANULARITY:
        type(row).objects.filter(pk=row.pk).update(last_used_at=now)
        row.last_used_at = now


class HashedTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Token"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(
                "Invalid token header: use 'Authorization: Token <token>'."
            )
        try:
            raw = header[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed(INVALID_TOKEN) from None
        token = (
            ApiToken.objects.select_related("user")
            .filter(digest=token_digest(raw), revoked_at__isnull=True)
            .first()
        )
        if token is None or not token.user.is_active:
            raise exceptions.AuthenticationFailed(INVALID_TOKEN)
        last_used_touch(token)
        return token.user, token

    def authenticate_header(self, request):
        return self.keyword


class RevokeTokensOnPasswordChange:
    """Listed in ``AUTH_PASSWORD_VALIDATORS`` for its ``password_changed`` hook, which Django
    calls whenever a user is saved with a new password — the password page, the admin's
    password form and ``manage.py changepassword`` alike (hash upgrades at sign-in are not
    changes) — so no path can leave a stolen token working after a password change."""

    def validate(self, password, user=None):
        return None

    def password_changed(self, password, user=None):
        if user is not None and user.pk is not None:
            from .services import api_tokens_revoke_all

            api_tokens_revoke_all(user=user)

    def get_help_text(self):
        return PASSWORD_CHANGE_REVOKES
