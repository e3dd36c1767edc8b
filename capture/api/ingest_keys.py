"""A team's ingest keys: list, create (the value shown once), revoke (DESIGN §8)."""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from finetunedb.teams.scoping import NOT_FOUND
from finetunedb.teams.selectors import team_get_for_user

from .. import selectors
from ..services.ingest_keys import ingest_key_create, ingest_key_revoke


class IngestKeyOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    prefix = serializers.CharField()
    created_at = serializers.DateTimeField()
    created_by = serializers.CharField(source="created_by.username", default=None)
    last_used_at = serializers.DateTimeField()
    revoked_at = serializers.DateTimeField()


class IngestKeyCreatedSerializer(IngestKeyOutputSerializer):
    key = serializers.CharField(help_text="The key itself; shown this once, never again.")


class IngestKeyInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)


class IngestKeyRevokeSerializer(serializers.Serializer):
    id = serializers.IntegerField(min_value=1)


def _team(request, team_id):
    team = team_get_for_user(request.user, team_id)
    if team is None:
        raise Http404(NOT_FOUND)
    return team


class TeamIngestKeysApi(APIView):
    @extend_schema(responses={200: IngestKeyOutputSerializer(many=True)})
    def get(self, request, team_id):
        keys = selectors.ingest_key_list(user=request.user, team=_team(request, team_id))
        return Response(IngestKeyOutputSerializer(keys, many=True).data)

    @extend_schema(request=IngestKeyInputSerializer, responses={201: IngestKeyCreatedSerializer})
    def post(self, request, team_id):
        team = _team(request, team_id)
        data = IngestKeyInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        key, raw = ingest_key_create(user=request.user, team=team, name=data.validated_data["name"])
        key.key = raw
        return Response(IngestKeyCreatedSerializer(key).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=IngestKeyRevokeSerializer, responses={204: None})
    def delete(self, request, team_id):
        team = _team(request, team_id)
        body = request.data if isinstance(request.data, dict) else {}
        key_id = body.get("id", request.query_params.get("id"))
        ingest_key_revoke(user=request.user, team=team, key_id=key_id)
        return Response(status=status.HTTP_204_NO_CONTENT)
