from django.db.models import Count, OuterRef, QuerySet, Subquery

from .models import Membership, Team
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
