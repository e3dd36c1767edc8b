"""Team scoping: the one place that decides which rows a user may see and act on.

Every selector and view reaches team-owned rows through :func:`scope_to_user` or
:func:`get_for_user`. Each team-owned model declares ``team_path``, the ORM path from the model
to its Team (``"team"``, ``"dataset__team"``, …). Objects of a team the caller is not in are
indistinguishable from objects that do not exist (404); a member whose role lacks the action gets
403.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import F, Model, QuerySet
from django.http import Http404

from finetunedb.logs import log_context_bind

from .models import Membership
from .permissions import Action, role_allows

NOT_FOUND = "Not found."
FORBIDDEN = "Your role in this team does not allow this action."


# The largest id a 64-bit signed column holds; bigger numbers fail in the database driver.
MAX_ID = 2**63 - 1


def parse_id(value) -> int | None:
    """``value`` as a row id, or None when it is not an integer in 1..MAX_ID.

    Ids from query strings and forms go through this before reaching a foreign-key filter:
    Django range-checks a model's own integer fields but not foreign keys, so an id past 64 bits
    would raise in the driver (OverflowError on SQLite, DataError on PostgreSQL) — a 500.
    """
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 1 <= number <= MAX_ID else None


def team_ids_for(user) -> QuerySet:
    """A subquery of the ids of the teams ``user`` belongs to (empty for anonymous users)."""
    if not getattr(user, "is_authenticated", False):
        return Membership.objects.none().values("team_id")
    return Membership.objects.filter(user_id=user.pk).values("team_id")


def _team_id_lookup(model: type[Model]) -> str:
    path = getattr(model, "team_path", None)
    if path is None:
        raise TypeError(f"{model.__name__} has no team_path; it cannot be scoped")
    return f"{path}_id"


def scope_to_user(queryset: QuerySet, user) -> QuerySet:
    """Restrict ``queryset`` to rows of the caller's teams."""
    lookup = _team_id_lookup(queryset.model)
    return queryset.filter(**{f"{lookup}__in": team_ids_for(user)})


def role_in_team(user, team_id: int) -> str | None:
    if not getattr(user, "is_authenticated", False):
        return None
    return (
        Membership.objects.filter(user_id=user.pk, team_id=team_id)
        .values_list("role", flat=True)
        .first()
    )


def require_role(user, team_id: int, action: Action) -> str:
    """The caller's role in the team; 404 when not a member, 403 when the role does not allow ``action``."""
    role = role_in_team(user, team_id)
    if role is None:
        raise Http404(NOT_FOUND)
    # Every scoped request passes here: its log records name the team from now on.
    log_context_bind(team_id=team_id)
    if not role_allows(role, action):
        raise PermissionDenied(FORBIDDEN)
    return role


def get_for_user(queryset: QuerySet, user, *, pk, action: Action = Action.READ):
    """Fetch one row by primary key within the caller's teams, checking the role for ``action``.

    Non-numeric or unknown ids, and ids of other teams' rows, all raise the same 404.
    """
    lookup = _team_id_lookup(queryset.model)
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise Http404(NOT_FOUND) from None
    obj = scope_to_user(queryset, user).annotate(scope_team_id=F(lookup)).filter(pk=pk).first()
    if obj is None:
        raise Http404(NOT_FOUND)
    require_role(user, obj.scope_team_id, action)
    return obj
