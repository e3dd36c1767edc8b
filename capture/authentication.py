"""``Authorization: Token ftdbi_…``: a team ingest key, accepted only where a view lists it.

Only the log-writing route (``POST /api/v1/logs/``) names :class:`IngestKeyAuthentication`.
Everywhere else the default :class:`~finetunedb.teams.authentication.HashedTokenAuthentication`
looks the value up among personal tokens, finds nothing and answers 401, so a key can write
logs and do nothing else. An authenticated key leaves ``request.user`` anonymous and puts the
:class:`~capture.models.IngestKey` in ``request.auth``.
"""

from django.contrib.auth.models import AnonymousUser
from rest_framework import authentication, exceptions, permissions
from rest_framework.authentication import SessionAuthentication

from finetunedb.teams.authentication import (
    INVALID_TOKEN,
    HashedTokenAuthentication,
    last_used_touch,
    token_digest,
)

from .models import IngestKey
from .services.ingest_keys import INGEST_KEY_PREFIX


class IngestKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Token"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if len(header) != 2 or header[0].lower() not in (b"token", b"bearer"):
            return None
        raw = header[1].decode("ascii", errors="replace")
        if not raw.startswith(INGEST_KEY_PREFIX):
            return None  # a personal token: HashedTokenAuthentication's turn
        key = (
            IngestKey.objects.select_related("team")
            .filter(digest=token_digest(raw), revoked_at__isnull=True)
            .first()
        )
        if key is None:
            raise exceptions.AuthenticationFailed(INVALID_TOKEN)
        last_used_touch(key)
        return AnonymousUser(), key

    def authenticate_header(self, request):
        return self.keyword


# What the log-writing route accepts, ingest keys first (they never reach the token table).
LOG_WRITE_AUTHENTICATION = [
    IngestKeyAuthentication,
    HashedTokenAuthentication,
    SessionAuthentication,
]


class IsUserOrIngestKey(permissions.BasePermission):
    """A signed-in user, or (for POST only) a team ingest key."""

    def has_permission(self, request, view):
        if isinstance(request.auth, IngestKey):
            return request.method == "POST"
        return bool(request.user and request.user.is_authenticated)


class BearerTokenAuthentication(HashedTokenAuthentication):
    """A personal token as OpenAI clients send their api_key: ``Authorization: Bearer ftdb_…``."""

    keyword = "Bearer"


# The proxy: what an OpenAI client sends (Bearer), an ingest key or a member's token.
PROXY_AUTHENTICATION = [
    IngestKeyAuthentication,
    BearerTokenAuthentication,
    HashedTokenAuthentication,
    SessionAuthentication,
]
