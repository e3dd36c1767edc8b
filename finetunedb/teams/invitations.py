"""Invitations: the only way into a team other than creating it. The invitee decides.

An owner or admin invites a username or an email address. The answer, and the row the team then
sees, are the same whether that names an account, no account, or someone already in the team:
inviting must not tell an outsider which accounts exist. Only an invitation that matched an
active account outside the team has an ``invitee``; only that person sees it (in the app, and by
e-mail to the address *their account* holds, never to the address typed), and only they can
accept or decline it. Invitations are single-use and expire after INVITATION_DAYS. Accepting
adds the membership without making it the current team (context_processors.current_team_for).

There is no link-based acceptance and no invitation of addresses without an account: an
unregistered address is never written to (an account's e-mail is not verified, so an invitation
must not follow a sign-up with that address either).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from finetunedb.exceptions import ApplicationError, ConflictError

from .models import Invitation, InvitationStatus, Membership, Role, Team
from .permissions import Action, role_allows
from .scoping import NOT_FOUND, parse_id, require_role, role_in_team
from .selectors import invitation_open_filter
from .services import ONLY_OWNER_GRANTS_OWNER, UNKNOWN_ROLE, membership_create

logger = logging.getLogger(__name__)

INVITATION_DAYS = 14
INVITATION_SENT = (
    "Invitation recorded. If this username or email belongs to an account that is not in the "
    "team yet, its owner can accept or decline it after signing in; it expires in "
    f"{INVITATION_DAYS} days."
)
IDENTIFIER_REQUIRED = "Give a username or an email address."
INVITATION_CLOSED = "This invitation was already answered, revoked, or has expired."
ALREADY_MEMBER = "You are already in this team."
INVITATION_LIMIT = (
    "This team has sent {limit} invitations in the last 24 hours, the most allowed "
    "(FINETUNEDB_MAX_INVITATIONS_PER_TEAM_PER_DAY); try again later."
)
EMAIL_SUBJECT = "You are invited to the team {team} on FinetuneDB"
EMAIL_BODY = (
    "{inviter} invited you to join the team {team} as {role}.\n\n"
    "Sign in to FinetuneDB to accept or decline it; nothing changes until you do. "
    "The invitation expires on {expires:%Y-%m-%d}.\n"
)


def _open():
    return invitation_open_filter()


def _one_line(text: str, limit: int = 80) -> str:
    # Team names are user text: no header injection, no 500 (BadHeaderError) for some invitees.
    return " ".join(str(text).split())[:limit]


def _account_outside_team(team: Team, identifier: str):
    """The active account ``identifier`` names (exact username, else the one account with that
    email), when it is not in ``team`` yet; else None."""
    users = get_user_model().objects.filter(is_active=True)
    user = users.filter(username=identifier).first()
    if user is None and "@" in identifier:
        by_email = list(users.filter(email__iexact=identifier)[:2])
        user = by_email[0] if len(by_email) == 1 else None
    if user is None or Membership.objects.filter(team=team, user=user).exists():
        return None
    return user


def invitation_create(*, actor, team: Team, identifier: str, role: str) -> Invitation:
    """Invite ``identifier`` into ``team``. Every refusal here depends only on the caller, the
    team and the role, never on whom ``identifier`` names."""
    actor_role = require_role(actor, team.pk, Action.MANAGE_MEMBERS)
    if role not in Role.values:
        raise ApplicationError(UNKNOWN_ROLE.format(role=role, roles=", ".join(Role.values)))
    if role == Role.OWNER and actor_role != Role.OWNER:
        raise ApplicationError(ONLY_OWNER_GRANTS_OWNER, status_code=403, code="permission_denied")
    identifier = (identifier or "").strip()[:254]
    if not identifier:
        raise ApplicationError(
            IDENTIFIER_REQUIRED, errors=[{"path": "user", "message": IDENTIFIER_REQUIRED}]
        )
    now = timezone.now()
    with transaction.atomic():
        Team.objects.select_for_update().filter(pk=team.pk).first()
        invitation = (
            Invitation.objects.select_for_update()
            .filter(team=team, invited_as=identifier, **_open())
            .first()
        )
        if invitation is None:
            limit = settings.FINETUNEDB_MAX_INVITATIONS_PER_TEAM_PER_DAY
            recent = Invitation.objects.filter(team=team, created_at__gt=now - timedelta(days=1))
            if limit and recent.count() >= limit:
                raise ConflictError(INVITATION_LIMIT.format(limit=limit), code="invitation_limit")
            invitation = Invitation(team=team, invited_as=identifier)
        fresh = invitation.pk is None
        invitation.invitee = _account_outside_team(team, identifier)
        invitation.role = role
        invitation.invited_by = actor
        invitation.expires_at = now + timedelta(days=INVITATION_DAYS)
        invitation.save()
        if fresh and invitation.invitee_id and invitation.invitee.email:
            # Sent by the worker: the request takes as long whether or not a message goes out,
            # and a broker that is down fails no request (which would tell the account exists).
            transaction.on_commit(lambda: _queue_email(invitation.pk), robust=True)
    return invitation


def _queue_email(invitation_id: int) -> None:
    from .tasks import invitation_email_send as task

    try:
        task.delay(invitation_id)
    except Exception:
        logger.exception("invitation e-mail not queued", extra={"invitation_id": invitation_id})


def invitation_email_send(*, invitation_id: int) -> bool:
    """Tell the invitee by e-mail, at their account's address. Returns whether it was sent."""
    invitation = (
        Invitation.objects.select_related("team", "invitee", "invited_by")
        .filter(pk=invitation_id, invitee__isnull=False, **_open())
        .first()
    )
    if invitation is None or not invitation.invitee.email:
        return False
    inviter = invitation.invited_by.get_username() if invitation.invited_by else "A team admin"
    team = _one_line(invitation.team.name)
    try:
        send_mail(
            EMAIL_SUBJECT.format(team=team),
            EMAIL_BODY.format(
                inviter=_one_line(inviter),
                team=team,
                role=invitation.role,
                expires=invitation.expires_at,
            ),
            settings.DEFAULT_FROM_EMAIL,
            [invitation.invitee.email],
        )
    except Exception:  # a mail server down must not retry forever or fail the request
        logger.exception("invitation e-mail not sent", extra={"invitation_id": invitation.pk})
        return False
    return True


def _inviter_may_still(invitation: Invitation) -> bool:
    # An invitation is worth what its sender may still do: a removed or demoted admin's lapse.
    role = (
        role_in_team(invitation.invited_by, invitation.team_id) if invitation.invited_by else None
    )
    if not role_allows(role, Action.MANAGE_MEMBERS):
        return False
    return invitation.role != Role.OWNER or role == Role.OWNER


def _mine(user, invitation_id, *, lock: bool = False) -> Invitation:
    pk = parse_id(invitation_id)
    rows = Invitation.objects.filter(pk=pk, invitee_id=user.pk) if pk else Invitation.objects.none()
    invitation = (rows.select_for_update() if lock else rows).select_related("team").first()
    if invitation is None:
        raise ApplicationError(NOT_FOUND, status_code=404, code="not_found")
    return invitation


def invitation_accept(*, user, invitation_id) -> Membership:
    """``user`` joins the team of their own open invitation, with its role. Single use."""
    with transaction.atomic():
        invitation = _mine(user, invitation_id, lock=True)
        open_now = (
            invitation.status == InvitationStatus.PENDING and invitation.expires_at > timezone.now()
        )
        if not open_now or not _inviter_may_still(invitation):
            raise ConflictError(INVITATION_CLOSED)
        if Membership.objects.filter(team_id=invitation.team_id, user_id=user.pk).exists():
            raise ConflictError(ALREADY_MEMBER)
        membership = membership_create(team=invitation.team, user=user, role=invitation.role)
        invitation.status = InvitationStatus.ACCEPTED
        invitation.responded_at = timezone.now()
        invitation.save(update_fields=["status", "responded_at"])
    return membership


def invitation_decline(*, user, invitation_id) -> None:
    with transaction.atomic():
        invitation = _mine(user, invitation_id, lock=True)
        if invitation.status != InvitationStatus.PENDING:
            raise ConflictError(INVITATION_CLOSED)
        invitation.status = InvitationStatus.DECLINED
        invitation.responded_at = timezone.now()
        invitation.save(update_fields=["status", "responded_at"])


def invitation_revoke(*, actor, team: Team, invitation_id) -> None:
    """An owner or admin withdraws a pending invitation of their team."""
    require_role(actor, team.pk, Action.MANAGE_MEMBERS)
    pk = parse_id(invitation_id)
    updated = (
        Invitation.objects.filter(pk=pk, team=team, status=InvitationStatus.PENDING).update(
            status=InvitationStatus.REVOKED, responded_at=timezone.now()
        )
        if pk
        else 0
    )
    if not updated:
        raise ApplicationError(NOT_FOUND, status_code=404, code="not_found")
