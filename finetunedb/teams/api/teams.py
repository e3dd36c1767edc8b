"""API for auth tokens, teams and members. Views parse and delegate."""

from django.contrib.auth import authenticate
from django.http import Http404
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import APIView

from finetunedb.exceptions import ApplicationError

from .. import invitations, selectors, services
from ..models import Role
from ..permissions import Action
from ..quota import team_storage_usage
from ..scoping import NOT_FOUND, require_role

BAD_CREDENTIALS = "Unable to log in with the given username and password."


class LoginRateThrottle(AnonRateThrottle):
    scope = "login"

    def get_cache_key(self, request, view):
        # Count attempts per client address whether or not the caller is logged in.
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class TokenObtainApi(APIView):
    permission_classes = [AllowAny]
    authentication_classes = []
    throttle_classes = [LoginRateThrottle]

    class InputSerializer(serializers.Serializer):
        username = serializers.CharField(max_length=150)
        password = serializers.CharField(max_length=4096, trim_whitespace=False)
        name = serializers.CharField(
            max_length=100,
            required=False,
            help_text='Default: "API token <date time>"; a name already in use gets " (2)", …',
        )

    class OutputSerializer(serializers.Serializer):
        token = serializers.CharField()
        name = serializers.CharField()

    @extend_schema(request=InputSerializer, responses={200: OutputSerializer}, auth=[])
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = authenticate(
            request,
            username=data.validated_data["username"],
            password=data.validated_data["password"],
        )
        if user is None:
            raise ApplicationError(BAD_CREDENTIALS, code="authentication_failed", status_code=400)
        token, raw = services.api_token_create(user=user, name=data.validated_data.get("name"))
        return Response({"token": raw, "name": token.name})


class StorageOutputSerializer(serializers.Serializer):
    used_bytes = serializers.IntegerField()
    quota_bytes = serializers.IntegerField(help_text="0 = unlimited")
    remaining_bytes = serializers.IntegerField(allow_null=True, help_text="null when unlimited")
    parts = serializers.DictField(
        child=serializers.IntegerField(), help_text="uploads, reports, models, content"
    )


class TeamOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    my_role = serializers.ChoiceField(choices=Role.choices)
    member_count = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    storage = serializers.SerializerMethodField()

    @extend_schema_field(StorageOutputSerializer)
    def get_storage(self, team) -> dict:
        return team_storage_usage(team_id=team.pk).as_dict()


class TeamListCreateApi(APIView):
    class InputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=100)

    @extend_schema(responses={200: TeamOutputSerializer(many=True)})
    def get(self, request):
        teams = selectors.team_list_for_user(request.user)
        return Response(TeamOutputSerializer(teams, many=True).data)

    @extend_schema(request=InputSerializer, responses={201: TeamOutputSerializer})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        team = services.team_create(user=request.user, name=data.validated_data["name"])
        team = selectors.team_get_for_user(request.user, team.pk)
        return Response(TeamOutputSerializer(team).data, status=status.HTTP_201_CREATED)


class MemberOutputSerializer(serializers.Serializer):
    user_id = serializers.IntegerField()
    username = serializers.CharField(source="user.username")
    role = serializers.ChoiceField(choices=Role.choices)
    joined_at = serializers.DateTimeField(source="created_at")


def team_or_404(request, team_id):
    team = selectors.team_get_for_user(request.user, team_id)
    if team is None:
        raise Http404(NOT_FOUND)
    return team


class InvitationSentSerializer(serializers.Serializer):
    """The same body for every identifier: no id, username or time that could tell them apart."""

    status = serializers.CharField(help_text="always 'pending'")
    role = serializers.ChoiceField(choices=Role.choices)
    expires_in_days = serializers.IntegerField()
    detail = serializers.CharField()


class TeamMembersApi(APIView):
    """Members of a team. Anyone in the team reads; owners and admins invite and remove; any
    member removes themselves (leaves). POST invites (202): nobody joins without accepting."""

    class InputSerializer(serializers.Serializer):
        user = serializers.CharField(max_length=254, help_text="Username or email to invite.")
        role = serializers.ChoiceField(choices=Role.choices, default=Role.VIEWER)

    class RemoveSerializer(serializers.Serializer):
        user = serializers.CharField(
            max_length=254, help_text="A member's user id, username or email (yours: leave)."
        )

    @extend_schema(responses={200: MemberOutputSerializer(many=True)})
    def get(self, request, team_id):
        team = team_or_404(request, team_id)
        require_role(request.user, team.pk, Action.READ)
        return Response(MemberOutputSerializer(selectors.membership_list(team), many=True).data)

    @extend_schema(request=InputSerializer, responses={202: InvitationSentSerializer})
    def post(self, request, team_id):
        team = team_or_404(request, team_id)
        require_role(request.user, team.pk, Action.MANAGE_MEMBERS)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        invitation = invitations.invitation_create(
            actor=request.user,
            team=team,
            identifier=data.validated_data["user"],
            role=data.validated_data["role"],
        )
        body = {
            "status": "pending",
            "role": invitation.role,
            "expires_in_days": invitations.INVITATION_DAYS,
            "detail": invitations.INVITATION_SENT,
        }
        return Response(body, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        request=RemoveSerializer,
        parameters=[
            OpenApiParameter(
                "user", str, description="User id, username or email (or in the body)."
            )
        ],
        responses={204: None},
    )
    def delete(self, request, team_id):
        team = team_or_404(request, team_id)
        raw = (
            request.data
            if isinstance(request.data, dict) and request.data
            else request.query_params
        )
        data = self.RemoveSerializer(data={"user": raw.get("user", "")})
        data.is_valid(raise_exception=True)
        services.membership_remove(
            actor=request.user, team=team, user_identifier=data.validated_data["user"]
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class TeamMemberDetailApi(APIView):
    """One member, by the ``user_id`` the member list shows: PATCH changes the role (owners and
    admins), DELETE removes them (or, for yourself, leaves). Non-members answer 404."""

    class InputSerializer(serializers.Serializer):
        role = serializers.ChoiceField(choices=Role.choices)

    @extend_schema(
        operation_id="teams_member_role_set",
        request=InputSerializer,
        responses={200: MemberOutputSerializer},
    )
    def patch(self, request, team_id, user_id):
        team = team_or_404(request, team_id)
        require_role(request.user, team.pk, Action.MANAGE_MEMBERS)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        membership = services.membership_role_set(
            actor=request.user, team=team, user_identifier=user_id, role=data.validated_data["role"]
        )
        return Response(MemberOutputSerializer(membership).data)

    @extend_schema(operation_id="teams_member_remove", responses={204: None})
    def delete(self, request, team_id, user_id):
        team = team_or_404(request, team_id)
        services.membership_remove(actor=request.user, team=team, user_identifier=user_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeApi(APIView):
    @extend_schema(
        responses={
            200: inline_serializer(
                "Me", {"id": serializers.IntegerField(), "username": serializers.CharField()}
            )
        }
    )
    def get(self, request):
        return Response({"id": request.user.pk, "username": request.user.get_username()})
