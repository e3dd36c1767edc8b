"""A team's capture settings: PII redaction at capture and log retention (owners and admins)."""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from finetunedb.exceptions import ApplicationError
from finetunedb.teams.permissions import Action
from finetunedb.teams.scoping import NOT_FOUND, require_role
from finetunedb.teams.selectors import team_get_for_user

from ..services.retention import MAX_RETENTION_DAYS, team_capture_settings_set

UNKNOWN_SETTING = "Unknown setting {!r}; the settings are redact_pii and retention_days."


class CaptureSettingsSerializer(serializers.Serializer):
    redact_pii = serializers.BooleanField(
        source="log_redact_pii",
        help_text="Replace emails, phone numbers and secrets in new logs with [EMAIL], [PHONE], "
        "[SECRET] before storing them (off by default).",
    )
    retention_days = serializers.IntegerField(
        source="log_retention_days",
        allow_null=True,
        min_value=1,
        max_value=MAX_RETENTION_DAYS,
        help_text="Delete logs older than this many days (hourly); null keeps them. "
        "Examples made from deleted logs stay.",
    )


def _team(request, team_id):
    team = team_get_for_user(request.user, team_id)
    if team is None:
        raise Http404(NOT_FOUND)
    return team


class TeamCaptureSettingsApi(APIView):
    @extend_schema(responses={200: CaptureSettingsSerializer})
    def get(self, request, team_id):
        team = _team(request, team_id)
        require_role(request.user, team.pk, Action.READ)
        return Response(CaptureSettingsSerializer(team).data)

    @extend_schema(request=CaptureSettingsSerializer, responses={200: CaptureSettingsSerializer})
    def patch(self, request, team_id):
        team = _team(request, team_id)
        # the role before the body: a curator hears 403 whatever it sent
        require_role(request.user, team.pk, Action.MANAGE_MEMBERS)
        body = request.data if isinstance(request.data, dict) else {}
        unknown = [k for k in body if k not in ("redact_pii", "retention_days")]
        if unknown:
            raise ApplicationError(UNKNOWN_SETTING.format(unknown[0]), code="invalid_setting")
        data = CaptureSettingsSerializer(data=body, partial=True)
        data.is_valid(raise_exception=True)
        changes = {
            name: data.validated_data[source]
            for name, source in (
                ("redact_pii", "log_redact_pii"),
                ("retention_days", "log_retention_days"),
            )
            if source in data.validated_data
        }
        team = team_capture_settings_set(user=request.user, team=team, **changes)
        return Response(CaptureSettingsSerializer(team).data)
