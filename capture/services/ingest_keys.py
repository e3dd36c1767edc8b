"""Team ingest keys: created by owners and admins, shown once, stored hashed, revocable."""

from __future__ import annotations

from django.utils import timezone

from finetunedb.exceptions import ApplicationError
from finetunedb.teams.authentication import secret_issue
from finetunedb.teams.permissions import Action
from finetunedb.teams.scoping import parse_id, require_role

from ..models import IngestKey

# Distinct from personal tokens (ftdb_…), so a leaked value says what it can do.
INGEST_KEY_PREFIX = "ftdbi_"
KEY_NAME_REQUIRED = "Give the ingest key a name (the service that will use it), 1-100 characters."
KEY_ID_REQUIRED = 'Send the id of the key to revoke: {"id": <id>}.'
NO_SUCH_KEY = "No such active ingest key in this team."


def ingest_key_create(*, user, team, name: str) -> tuple[IngestKey, str]:
    """A new key of ``team``; returns (row, raw value). The raw value is never stored or shown again."""
    require_role(user, team.pk, Action.MANAGE_MEMBERS)
    name = (name or "").strip()
    if not 1 <= len(name) <= 100:
        raise ApplicationError(KEY_NAME_REQUIRED, code="name_required")
    raw, fields = secret_issue(INGEST_KEY_PREFIX)
    key = IngestKey.objects.create(team=team, name=name, created_by=user, **fields)
    return key, raw


def ingest_key_revoke(*, user, team, key_id) -> None:
    """Revoke one active key of ``team`` (``key_id`` as sent: parsed here, after the role)."""
    require_role(user, team.pk, Action.MANAGE_MEMBERS)
    key_id = parse_id(key_id)
    if key_id is None:
        raise ApplicationError(KEY_ID_REQUIRED, code="id_required")
    changed = IngestKey.objects.filter(pk=key_id, team=team, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    if not changed:
        raise ApplicationError(NO_SUCH_KEY, code="not_found", status_code=404)
