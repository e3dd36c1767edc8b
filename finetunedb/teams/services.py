"""Writes for teams, memberships, users and API tokens."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from finetunedb.exceptions import ApplicationError, ConflictError

from .authentication import secret_issue
from .models import ApiToken, Membership, Role, Team
from .permissions import Action
from .scoping import parse_id, require_role

TEAM_NAME_REQUIRED = "A team needs a name."
NOT_A_MEMBER = "No member of this team with that user id, username or email."
UNKNOWN_ROLE = "Unknown role {role!r}; use one of {roles}."
TEAM_LIMIT = (
    "You have reached the limit of {limit} teams per user (FINETUNEDB_MAX_TEAMS_PER_USER): "
    "work in one of your teams, or ask the server's administrator to raise the limit."
)
LAST_OWNER_LEAVING = "You are this team's last owner: make someone else owner before you leave."
ONLY_OWNER_GRANTS_OWNER = "Only an owner can grant or remove the owner role."
LAST_OWNER = "A team needs at least one owner: make someone else owner first."
USERNAME_TAKEN = "That username is taken."
EMAIL_TAKEN = "That email is already registered."
TOKEN_NAME_REQUIRED = "Give the token a name so you can recognise it later."
TOKEN_DEFAULT_NAME = "API token {when:%Y-%m-%d %H:%M}"
TOKEN_NAME_MAX = 100  # ApiToken.name
TOKEN_PREFIX = "ftdb_"
NO_SUCH_TOKEN = "No such active token."


def team_create(*, user, name: str) -> Team:
    """A new team with ``user`` as its owner, who has chosen it (their current team).

    A user creates at most FINETUNEDB_MAX_TEAMS_PER_USER teams, so that per-team quotas and job
    caps do not multiply by creating teams.
    """
    name = (name or "").strip()
    if not name:
        raise ApplicationError(
            TEAM_NAME_REQUIRED, errors=[{"path": "name", "message": TEAM_NAME_REQUIRED}]
        )
    limit = settings.FINETUNEDB_MAX_TEAMS_PER_USER
    with transaction.atomic():
        # Serializes one user's concurrent creations on PostgreSQL, so two cannot pass at limit-1.
        get_user_model().objects.select_for_update().filter(pk=user.pk).first()
        if limit and Team.objects.filter(created_by=user).count() >= limit:
            raise ConflictError(TEAM_LIMIT.format(limit=limit), code="team_limit")
        team = Team.objects.create(name=name[:100], created_by=user)
        membership_create(team=team, user=user, role=Role.OWNER, selected=True)
    return team


def team_rename(*, actor, team: Team, name: str) -> Team:
    require_role(actor, team.pk, Action.MANAGE_TEAM)
    name = (name or "").strip()
    if not name:
        raise ApplicationError(TEAM_NAME_REQUIRED)
    team.name = name[:100]
    team.save(update_fields=["name"])
    return team


def membership_create(*, team: Team, user, role: str, selected: bool = False) -> Membership:
    """Put ``user`` in ``team``: only for a team's creator, an accepted invitation
    (invitations.invitation_accept), the Django admin and tests — never on another's say-so."""
    return Membership.objects.create(
        team=team, user=user, role=role, selected_at=timezone.now() if selected else None
    )


def membership_select(*, user, team: Team) -> None:
    """Remember ``team`` as the one ``user`` chose in the switcher (their next sign-in's)."""
    Membership.objects.filter(user_id=user.pk, team_id=team.pk).update(selected_at=timezone.now())


def _is_caller(user, identifier) -> bool:
    """Whether ``identifier`` (user id, username or email) names the caller: decided from the
    caller's own row only, so it says nothing about other accounts."""
    identifier = str(identifier or "").strip()
    if not identifier:
        return False
    return identifier in (str(user.pk), user.get_username()) or bool(
        user.email and identifier.lower() == user.email.lower()
    )


def _member(team: Team, identifier, *, lock: bool = False) -> Membership | None:
    """The membership in ``team`` named by a user id, username or email, or None. Only members
    are looked up, so the answer is the same for an unknown account and a non-member."""
    identifier = str(identifier or "").strip()
    if not identifier:
        return None
    members = Membership.objects.filter(team=team, user__is_active=True).select_related("user")
    if lock:
        members = members.select_for_update()
    user_id = parse_id(identifier)
    found = members.filter(user_id=user_id).first() if user_id is not None else None
    found = found or members.filter(user__username=identifier).first()
    if found is None and "@" in identifier:
        by_email = list(members.filter(user__email__iexact=identifier)[:2])
        found = by_email[0] if len(by_email) == 1 else None
    return found


def team_lock(team_id: int) -> None:
    """Inside a transaction: lock the team's row, so that decisions about one team (a per-team
    cap, a quota, who is owner) are made one at a time. On PostgreSQL this is the only lock a
    count can take: Django drops FOR UPDATE from aggregates, so ``select_for_update().count()``
    locks nothing. SQLite's IMMEDIATE transactions already run writers one at a time."""
    Team.objects.select_for_update().filter(pk=team_id).values_list("pk", flat=True).first()


def _lock_team(team: Team) -> None:
    # Member changes of one team run one at a time (PostgreSQL), so two owners demoting or
    # removing each other at once cannot leave the team without an owner.
    team_lock(team.pk)


def _owners_left(team: Team, excluding_user_id: int) -> int:
    return team.memberships.filter(role=Role.OWNER).exclude(user_id=excluding_user_id).count()


def membership_role_set(*, actor, team: Team, user_identifier, role: str) -> Membership:
    """Change the role of someone already in the team (the list shows them to the caller).
    Adding people goes through invitations (finetunedb/teams/invitations.py)."""
    actor_role = require_role(actor, team.pk, Action.MANAGE_MEMBERS)
    if role not in Role.values:
        raise ApplicationError(UNKNOWN_ROLE.format(role=role, roles=", ".join(Role.values)))
    with transaction.atomic():
        _lock_team(team)
        current = _member(team, user_identifier, lock=True)
        if current is None:
            raise ApplicationError(NOT_A_MEMBER, status_code=404, code="not_found")
        touches_owner = role == Role.OWNER or current.role == Role.OWNER
        if touches_owner and actor_role != Role.OWNER:
            raise ApplicationError(
                ONLY_OWNER_GRANTS_OWNER, status_code=403, code="permission_denied"
            )
        if (
            current.role == Role.OWNER
            and role != Role.OWNER
            and _owners_left(team, current.user_id) == 0
        ):
            raise ConflictError(LAST_OWNER)
        current.role = role
        current.save(update_fields=["role"])
        return current


def membership_remove(*, actor, team: Team, user_identifier) -> None:
    """Remove a member (owners and admins), or leave: any member may remove themselves,
    except the last owner."""
    if _is_caller(actor, user_identifier):
        membership_leave(user=actor, team=team)
        return
    actor_role = require_role(actor, team.pk, Action.MANAGE_MEMBERS)
    with transaction.atomic():
        _lock_team(team)
        membership = _member(team, user_identifier, lock=True)
        if membership is None:
            raise ApplicationError(NOT_A_MEMBER, status_code=404, code="not_found")
        if membership.role == Role.OWNER:
            if actor_role != Role.OWNER:
                raise ApplicationError(
                    ONLY_OWNER_GRANTS_OWNER, status_code=403, code="permission_denied"
                )
            if _owners_left(team, membership.user_id) == 0:
                raise ConflictError(LAST_OWNER)
        membership.delete()


def membership_leave(*, user, team: Team) -> None:
    """``user`` leaves ``team``, whatever their role; the last owner must hand over first."""
    require_role(user, team.pk, Action.READ)
    with transaction.atomic():
        _lock_team(team)
        membership = (
            Membership.objects.select_for_update().filter(team=team, user_id=user.pk).first()
        )
        if membership is None:
            raise ApplicationError(NOT_A_MEMBER, status_code=404, code="not_found")
        if membership.role == Role.OWNER and _owners_left(team, user.pk) == 0:
            raise ConflictError(LAST_OWNER_LEAVING)
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


def api_token_create(*, user, name: str | None = None) -> tuple[ApiToken, str]:
    """Create a token; returns (row, raw value). The raw value is never stored or shown again.

    ``name`` None (an API client that sent none): a descriptive default, "API token
    2026-12-06 21:30" (UTC). A name one of the user's active tokens already has gets " (2)",
    " (3)", … so that every token in the list can be told apart (and revoked) by its name.
    """
    if name is None:
        name = TOKEN_DEFAULT_NAME.format(when=timezone.now())
    name = name.strip()[:TOKEN_NAME_MAX]
    if not name:
        raise ApplicationError(
            TOKEN_NAME_REQUIRED, errors=[{"path": "name", "message": TOKEN_NAME_REQUIRED}]
        )
    name = _token_name_unique(user, name)
    raw, fields = secret_issue(TOKEN_PREFIX)
    token = ApiToken.objects.create(user=user, name=name, **fields)
    return token, raw


def _token_name_unique(user, name: str) -> str:
    taken = set(
        ApiToken.objects.filter(
            user=user, revoked_at__isnull=True, name__startswith=name[: TOKEN_NAME_MAX - 8]
        ).values_list("name", flat=True)
    )
    if name not in taken:
        return name
    n = 2
    while True:
        suffix = f" ({n})"
        candidate = name[: TOKEN_NAME_MAX - len(suffix)] + suffix
        if candidate not in taken:
            return candidate
        n += 1


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
