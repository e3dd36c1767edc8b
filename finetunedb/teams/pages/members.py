"""Pages for a team's members and invitations. Views parse and delegate.

Joining a team takes an invitation its invitee accepts (finetunedb/teams/invitations.py); any
member may leave.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from finetunedb.exceptions import ApplicationError

from .. import invitations, selectors, services
from ..forms import MemberForm
from ..models import Role
from ..permissions import Action, role_allows
from ..quota import team_storage_usage
from ..scoping import NOT_FOUND

MEMBER_REMOVED = "Member removed."
ROLE_SAVED = "Role saved."
INVITATION_REVOKED = "Invitation revoked."
LEFT_TEAM = "You left “{team}”."
JOINED_TEAM = "You joined “{team}” as {role}. Pick it in the team switcher to work in it."
DECLINED = "Invitation declined."


def _team_or_404(request, team_id):
    team = selectors.team_get_for_user(request.user, team_id)
    if team is None:
        raise Http404(NOT_FOUND)
    return team


def _manage(request, team, form):
    """One POST of the members page: invite, change a role, remove, or revoke. Returns the
    message to show, or raises ApplicationError."""
    post = request.POST
    if post.get("remove"):
        services.membership_remove(actor=request.user, team=team, user_identifier=post["remove"])
        return MEMBER_REMOVED
    if post.get("set_role"):
        services.membership_role_set(
            actor=request.user,
            team=team,
            user_identifier=post["set_role"],
            role=post.get("role", ""),
        )
        return ROLE_SAVED
    if post.get("revoke"):
        invitations.invitation_revoke(actor=request.user, team=team, invitation_id=post["revoke"])
        return INVITATION_REVOKED
    if not form.is_valid():
        return None
    invitations.invitation_create(
        actor=request.user,
        team=team,
        identifier=form.cleaned_data["user"],
        role=form.cleaned_data["role"],
    )
    return invitations.INVITATION_SENT


@login_required
def team_members(request, team_id):
    team = _team_or_404(request, team_id)
    form = MemberForm(request.POST or None)
    can_manage = role_allows(team.my_role, Action.MANAGE_MEMBERS)
    if request.method == "POST":
        if not can_manage:
            return render(request, "403.html", status=403)
        try:
            done = _manage(request, team, form)
        except ApplicationError as exc:
            form.add_error(None, exc.message)
        else:
            if done:
                messages.success(request, done)
                return redirect("teams:members", team_id=team.pk)
    return render(
        request,
        "teams/members.html",
        {
            "team": team,
            "members": selectors.membership_list(team),
            "invitations": selectors.invitation_list_for_team(team) if can_manage else [],
            "roles": Role.choices,
            "form": form,
            "can_manage": can_manage,
            "storage": team_storage_usage(team_id=team.pk),
        },
    )


@login_required
@require_POST
def team_leave(request, team_id):
    team = _team_or_404(request, team_id)
    try:
        services.membership_leave(user=request.user, team=team)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("teams:members", team_id=team.pk)
    messages.success(request, LEFT_TEAM.format(team=team.name))
    return redirect("teams:home")


@login_required
@require_POST
def invitation_accept(request, invitation_id):
    try:
        membership = invitations.invitation_accept(user=request.user, invitation_id=invitation_id)
    except ApplicationError as exc:
        if exc.status_code == 404:
            raise Http404(NOT_FOUND) from None
        messages.error(request, exc.message)
    else:
        messages.success(
            request, JOINED_TEAM.format(team=membership.team.name, role=membership.role)
        )
    return redirect("teams:home")


@login_required
@require_POST
def invitation_decline(request, invitation_id):
    try:
        invitations.invitation_decline(user=request.user, invitation_id=invitation_id)
    except ApplicationError as exc:
        if exc.status_code == 404:
            raise Http404(NOT_FOUND) from None
        messages.error(request, exc.message)
    else:
        messages.success(request, DECLINED)
    return redirect("teams:home")
