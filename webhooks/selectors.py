"""Reads of webhook endpoints and deliveries, with team scoping (owners and admins only: the
payloads and the endpoints' URLs are the team's configuration)."""

from __future__ import annotations

from django.http import Http404

from finetunedb.teams.permissions import Action
from finetunedb.teams.scoping import NOT_FOUND, get_for_user, require_role
from finetunedb.teams.selectors import team_get_for_user

from .models import WebhookAttempt, WebhookDelivery, WebhookEndpoint

RECENT = 50


def webhook_team_get(user, team_id, *, action: Action = Action.MANAGE_MEMBERS):
    """The caller's team ``team_id`` (404 for anyone else's) once the role allows ``action``."""
    team = team_get_for_user(user, team_id)
    if team is None:
        raise Http404(NOT_FOUND)
    require_role(user, team.pk, action)
    return team


def webhook_endpoint_list(*, team) -> list[WebhookEndpoint]:
    return list(WebhookEndpoint.objects.filter(team=team))


def webhook_endpoint_get_for_user(user, endpoint_id) -> WebhookEndpoint:
    return get_for_user(
        WebhookEndpoint.objects.all(), user, pk=endpoint_id, action=Action.MANAGE_MEMBERS
    )


def webhook_delivery_list(*, team, endpoint_id: int | None = None, limit: int = RECENT) -> list:
    """The team's newest deliveries (of one endpoint when given), with their event."""
    rows = WebhookDelivery.objects.filter(endpoint__team=team).select_related("event", "endpoint")
    if endpoint_id is not None:
        rows = rows.filter(endpoint_id=endpoint_id)
    return list(rows[:limit])


def webhook_delivery_get_for_user(user, delivery_id) -> WebhookDelivery:
    queryset = WebhookDelivery.objects.select_related("event", "endpoint")
    return get_for_user(queryset, user, pk=delivery_id, action=Action.MANAGE_MEMBERS)


def webhook_attempt_list(*, delivery: WebhookDelivery) -> list[WebhookAttempt]:
    return list(WebhookAttempt.objects.filter(delivery=delivery))
