"""A team's capture rules: list, create, delete (DESIGN §8)."""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from datasets_app.selectors import dataset_get_for_user
from finetunedb.teams.scoping import NOT_FOUND
from finetunedb.teams.selectors import team_get_for_user

from .. import selectors
from ..services.rules import capture_rule_create, capture_rule_delete, capture_rules_authorize


class CaptureRuleOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    dataset = serializers.IntegerField(source="dataset_id")
    filter = serializers.JSONField()
    sample_rate = serializers.FloatField()
    status = serializers.CharField()
    applied_count = serializers.IntegerField(help_text="Examples this rule has created so far.")
    created_at = serializers.DateTimeField()


class CaptureRuleInputSerializer(serializers.Serializer):
    dataset = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    filter = serializers.DictField(required=False, default=dict)
    sample_rate = serializers.FloatField(required=False, default=1.0)
    status = serializers.CharField(required=False, default="needs_review")


def _team(request, team_id):
    team = team_get_for_user(request.user, team_id)
    if team is None:
        raise Http404(NOT_FOUND)
    return team


class TeamCaptureRulesApi(APIView):
    @extend_schema(responses={200: CaptureRuleOutputSerializer(many=True)})
    def get(self, request, team_id):
        rules = selectors.capture_rule_list(user=request.user, team=_team(request, team_id))
        return Response(CaptureRuleOutputSerializer(rules, many=True).data)

    @extend_schema(request=CaptureRuleInputSerializer, responses={201: CaptureRuleOutputSerializer})
    def post(self, request, team_id):
        team = _team(request, team_id)
        capture_rules_authorize(user=request.user, team=team)
        data = CaptureRuleInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        dataset = dataset_get_for_user(request.user, values["dataset"])
        rule = capture_rule_create(
            user=request.user,
            team=team,
            dataset=dataset,
            filter=values["filter"],
            sample_rate=values["sample_rate"],
            status=values["status"],
        )
        return Response(CaptureRuleOutputSerializer(rule).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={204: None})
    def delete(self, request, team_id):
        team = _team(request, team_id)
        body = request.data if isinstance(request.data, dict) else {}
        capture_rule_delete(
            user=request.user, team=team, rule_id=body.get("id", request.query_params.get("id"))
        )
        return Response(status=status.HTTP_204_NO_CONTENT)
