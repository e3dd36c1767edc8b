"""Reads of teams, memberships, invitations and the caller's API tokens. The teams pages and API
reach these rows only through here (team scoping: ``finetunedb.teams.scoping``)."""

from django.contrib.auth import get_user_model
from django.db.models import Count, F, OuterRef, QuerySet, Subquery
from django.utils import timezone

from .models import ApiToken, Invitation, InvitationStatus, Membership, Team
from .scoping import team_ids_for


def team_list_for_user(user) -> QuerySet:
    """The caller's teams, each annotated with ``my_role`` and ``member_count``."""
    my_role = Membership.objects.filter(team=OuterRef("pk"), user_id=user.pk).values("role")[:1]
    return (
        Team.objects.filter(pk__in=team_ids_for(user))
        .annotate(my_role=Subquery(my_role), member_count=Count("memberships"))
        .order_by("name", "id")
    )


def team_get_for_user(user, team_id):
    """One of the caller's teams (annotated like the list), or None."""
    try:
        team_id = int(team_id)
    except (TypeError, ValueError):
        return None
    return team_list_for_user(user).filter(pk=team_id).first()


def membership_list(team: Team) -> QuerySet:
    return Membership.objects.filter(team=team).select_related("user").order_by("user__username")


def team_default_id_for_user(user) -> int | None:
    """The team to work in when the session has not chosen one: the one the user last picked in
    the switcher or created, else their oldest membership. Never one put first by its name or by
    someone else (an accepted invitation does not select its team)."""
    return (
        Membership.objects.filter(user_id=user.pk)
        .order_by(F("selected_at").desc(nulls_last=True), "created_at", "id")
        .values_list("team_id", flat=True)
        .first()
    )


def invitation_open_filter() -> dict:
    return {"status": InvitationStatus.PENDING, "expires_at__gt": timezone.now()}


def invitation_list_for_team(team: Team):
    """The team's open invitations, as the team sees them (as typed; no account named)."""
    return Invitation.objects.filter(team=team, **invitation_open_filter()).select_related(
        "invited_by"
    )


def invitation_list_for_user(user):
    """The open invitations addressed to ``user``, to teams they are not in."""
    if not getattr(user, "is_authenticated", False):
        return Invitation.objects.none()
    return (
        Invitation.objects.filter(invitee_id=user.pk, **invitation_open_filter())
        .exclude(team__memberships__user_id=user.pk)
        .select_related("team", "invited_by")
    )


def api_token_list_for_user(*, user) -> QuerySet:
    """The caller's own API tokens, revoked ones included, newest first (never another user's)."""
    return ApiToken.objects.filter(user=user).order_by("-created_at", "-id")


def team_user_list(*, team_id: int) -> QuerySet:
    """The users of a team the caller already reached (through one of its rows), by username."""
    return get_user_model().objects.filter(memberships__team_id=team_id).order_by("username")
