"""``Authorization: Token <value>`` against hashed API tokens."""

import hashlib
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
        now = timezone.now()
        if token.last_used_at is None or now - token.last_used_at > LAST_USED_GRANULARITY:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
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
