"""Writes for teams, memberships, users and API tokens."""

from __future__ import annotations

import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from finetunedb.exceptions import ApplicationError, ConflictError

from .authentication import token_digest
from .models import ApiToken, Membership, Role, Team
from .permissions import Action
from .scoping import parse_id, require_role

TEAM_NAME_REQUIRED = "A team needs a name."
USER_NOT_FOUND = "No user with that username or email."
ONLY_OWNER_GRANTS_OWNER = "Only an owner can grant or remove the owner role."
LAST_OWNER = "A team needs at least one owner: make someone else owner first."
USERNAME_TAKEN = "That username is taken."
EMAIL_TAKEN = "That email is already registered."
TOKEN_NAME_REQUIRED = "Give the token a name so you can recognise it later."
TOKEN_PREFIX = "ftdb_"
NO_SUCH_TOKEN = "No such active token."


def team_create(*, user, name: str) -> Team:
    name = (name or "").strip()
    if not name:
        raise ApplicationError(
            TEAM_NAME_REQUIRED, errors=[{"path": "name", "message": TEAM_NAME_REQUIRED}]
        )
    with transaction.atomic():
        team = Team.objects.create(name=name[:100], created_by=user)
        Membership.objects.create(team=team, user=user, role=Role.OWNER)
    return team


def team_rename(*, actor, team: Team, name: str) -> Team:
    require_role(actor, team.pk, Action.MANAGE_TEAM)
    name = (name or "").strip()
    if not name:
        raise ApplicationError(TEAM_NAME_REQUIRED)
    team.name = name[:100]
    team.save(update_fields=["name"])
    return team


def _find_user(identifier):
    User = get_user_model()
    if isinstance(identifier, int) or (isinstance(identifier, str) and identifier.isdigit()):
        user = User.objects.filter(pk=int(identifier), is_active=True).first()
        if user:
            return user
    if isinstance(identifier, str) and identifier:
        return (
            User.objects.filter(username=identifier, is_active=True).first()
            or User.objects.filter(email__iexact=identifier, is_active=True).first()
        )
    return None


def _owners_left(team: Team, excluding_user_id: int) -> int:
    return team.memberships.filter(role=Role.OWNER).exclude(user_id=excluding_user_id).count()


def membership_set(*, actor, team: Team, user_identifier, role: str) -> tuple[Membership, bool]:
    """Add a member or change a member's role. Returns (membership, created)."""
    actor_role = require_role(actor, team.pk, Action.MANAGE_MEMBERS)
    if role not in Role.values:
        raise ApplicationError(f"Unknown role {role!r}; use one of {', '.join(Role.values)}.")
    user = _find_user(user_identifier)
    if user is None:
        raise ApplicationError(USER_NOT_FOUND, errors=[{"path": "user", "message": USER_NOT_FOUND}])
    with transaction.atomic():
        current = Membership.objects.select_for_update().filter(team=team, user=user).first()
        touches_owner = role == Role.OWNER or (current and current.role == Role.OWNER)
        if touches_owner and actor_role != Role.OWNER:
            raise ApplicationError(
                ONLY_OWNER_GRANTS_OWNER, status_code=403, code="permission_denied"
            )
        if current is None:
            return Membership.objects.create(team=team, user=user, role=role), True
        if current.role == Role.OWNER and role != Role.OWNER and _owners_left(team, user.pk) == 0:
            raise ConflictError(LAST_OWNER)
        current.role = role
        current.save(update_fields=["role"])
        return current, False


def membership_remove(*, actor, team: Team, user_identifier) -> None:
    actor_role = require_role(actor, team.pk, Action.MANAGE_MEMBERS)
    user = _find_user(user_identifier)
    with transaction.atomic():
        membership = (
            Membership.objects.select_for_update().filter(team=team, user=user).first()
            if user
            else None
        )
        if membership is None:
            raise ApplicationError(USER_NOT_FOUND, status_code=404, code="not_found")
        if membership.role == Role.OWNER:
            if actor_role != Role.OWNER:
                raise ApplicationError(
                    ONLY_OWNER_GRANTS_OWNER, status_code=403, code="permission_denied"
                )
            if _owners_left(team, user.pk) == 0:
                raise ConflictError(LAST_OWNER)
        membership.delete()


def user_signup(*, username: str, email: str, password: str):
    User = get_user_model()
    username = (username or "").strip()
    email = (email or "").strip()
    errors = []
    if User.objects.filter(username__iexact=username).exists():
        errors.append({"path": "username", "message": USERNAME_TAKEN})
    if email and User.objects.filter(email__iexact=email).exists():
        errors.append({"path": "email", "message": EMAIL_TAKEN})
    candidate = User(username=username, email=email)
    try:
        validate_password(password, candidate)
    except ValidationError as exc:
        errors.extend({"path": "password", "message": m} for m in exc.messages)
    if errors:
        raise ApplicationError("Could not create the account.", errors=errors)
    with transaction.atomic():
        user = User.objects.create_user(username=username, email=email, password=password)
        team_create(user=user, name=f"{username}'s team")
    return user


def api_token_create(*, user, name: str) -> tuple[ApiToken, str]:
    """Create a token; returns (row, raw value). The raw value is never stored or shown again."""
    name = (name or "").strip()
    if not name:
        raise ApplicationError(
            TOKEN_NAME_REQUIRED, errors=[{"path": "name", "message": TOKEN_NAME_REQUIRED}]
        )
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user, name=name[:100], prefix=raw[:12], digest=token_digest(raw)
    )
    return token, raw


def api_token_revoke(*, user, token_id) -> None:
    token_id = parse_id(token_id)
    updated = (
        ApiToken.objects.filter(pk=token_id, user=user, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
        if token_id is not None
        else 0
    )
    if not updated:
        raise ApplicationError(NO_SUCH_TOKEN, status_code=404, code="not_found")


def api_token_count_active(*, user) -> int:
    return ApiToken.objects.filter(user=user, revoked_at__isnull=True).count()


def api_tokens_revoke_all(*, user) -> int:
    """Revoke every active token of ``user`` (on a password change); returns how many."""
    return ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
