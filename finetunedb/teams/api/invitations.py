"""API for invitations: a team's pending ones (owners, admins) and the caller's own.

Views parse and delegate to finetunedb/teams/invitations.py.
"""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from .. import invitations, selectors
from ..models import Role
from ..permissions import Action
from ..scoping import require_role
from .teams import TeamOutputSerializer, team_or_404


class TeamInvitationOutputSerializer(serializers.Serializer):
    """A pending invitation as its team sees it: as typed, naming no account."""

    id = serializers.IntegerField()
    invited_as = serializers.CharField()
    role = serializers.ChoiceField(choices=Role.choices)
    invited_by = serializers.CharField(source="invited_by.username", default=None)
    created_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()


class TeamRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class MyInvitationOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    team = TeamRefSerializer()
    role = serializers.ChoiceField(choices=Role.choices)
    invited_by = serializers.CharField(source="invited_by.username", default=None)
    created_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()


class TeamInvitationListApi(APIView):
    @extend_schema(responses={200: TeamInvitationOutputSerializer(many=True)})
    def get(self, request, team_id):
        team = team_or_404(request, team_id)
        require_role(request.user, team.pk, Action.MANAGE_MEMBERS)
        rows = selectors.invitation_list_for_team(team)
        return Response(TeamInvitationOutputSerializer(rows, many=True).data)


class TeamInvitationRevokeApi(APIView):
    @extend_schema(responses={204: None})
    def delete(self, request, team_id, invitation_id):
        team = team_or_404(request, team_id)
        invitations.invitation_revoke(actor=request.user, team=team, invitation_id=invitation_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class InvitationListApi(APIView):
    @extend_schema(responses={200: MyInvitationOutputSerializer(many=True)})
    def get(self, request):
        rows = selectors.invitation_list_for_user(request.user)
        return Response(MyInvitationOutputSerializer(rows, many=True).data)


class InvitationAcceptApi(APIView):
    @extend_schema(request=None, responses={200: TeamOutputSerializer})
    def post(self, request, invitation_id):
        membership = invitations.invitation_accept(user=request.user, invitation_id=invitation_id)
        team = selectors.team_get_for_user(request.user, membership.team_id)
        return Response(TeamOutputSerializer(team).data)


class InvitationDeclineApi(APIView):
    @extend_schema(request=None, responses={204: None})
    def post(self, request, invitation_id):
        invitations.invitation_decline(user=request.user, invitation_id=invitation_id)
        return Response(status=status.HTTP_204_NO_CONTENT)
