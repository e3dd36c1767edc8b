"""The teams API's routes (DESIGN §6): tokens, me, teams, members, invitations.

Included by ``finetunedb/api_urls.py`` into the ``api`` namespace, so names read ``api:team-list``.
"""

from django.urls import path

from . import invitations as invitations_api
from . import teams as teams_api

urlpatterns = [
    path("auth/token/", teams_api.TokenObtainApi.as_view(), name="auth-token"),
    path("me/", teams_api.MeApi.as_view(), name="me"),
    path("teams/", teams_api.TeamListCreateApi.as_view(), name="team-list"),
    path("teams/<int:team_id>/members/", teams_api.TeamMembersApi.as_view(), name="team-members"),
    path(
        "teams/<int:team_id>/members/<int:user_id>/",
        teams_api.TeamMemberDetailApi.as_view(),
        name="team-member-detail",
    ),
    path(
        "teams/<int:team_id>/invitations/",
        invitations_api.TeamInvitationListApi.as_view(),
        name="team-invitations",
    ),
    path(
        "teams/<int:team_id>/invitations/<int:invitation_id>/",
        invitations_api.TeamInvitationRevokeApi.as_view(),
        name="team-invitation-detail",
    ),
    path("invitations/", invitations_api.InvitationListApi.as_view(), name="invitation-list"),
    path(
        "invitations/<int:invitation_id>/accept/",
        invitations_api.InvitationAcceptApi.as_view(),
        name="invitation-accept",
    ),
    path(
        "invitations/<int:invitation_id>/decline/",
        invitations_api.InvitationDeclineApi.as_view(),
        name="invitation-decline",
    ),
]
