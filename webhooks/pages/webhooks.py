"""The team's webhooks page: endpoints, recent deliveries with their log, redeliver and ping
buttons (owners and admins). Views parse and delegate."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render

from finetunedb.events import EVENT_TYPES
from finetunedb.exceptions import ApplicationError
from finetunedb.teams.scoping import NOT_FOUND, parse_id

from .. import selectors
from ..services import deliveries, endpoints
from ..services.events import webhook_endpoint_ping

CREATED = "Endpoint added."
CREATED_OWN_SECRET = "Endpoint added; deliveries are signed with the secret you gave."
DELETED = "Endpoint deleted."
PAUSED = "Endpoint paused: it is sent no new events."
RESUMED = "Endpoint active again."
PINGED = "A webhook.test event is on its way; its delivery is listed below."
REDELIVERED = "Delivery queued again, with the same webhook-id."


def _endpoint_of(request, team, endpoint_id):
    endpoint = selectors.webhook_endpoint_get_for_user(request.user, endpoint_id)
    if endpoint.team_id != team.pk:
        raise Http404(NOT_FOUND)
    return endpoint


def _act(request, team) -> tuple[str | None, str | None]:
    """One POST: (message, the generated secret to show once) or ApplicationError."""
    post = request.POST
    if post.get("delete"):
        endpoints.webhook_endpoint_delete(user=request.user, team=team, endpoint_id=post["delete"])
        return DELETED, None
    for name, active, done in (("pause", False, PAUSED), ("resume", True, RESUMED)):
        if post.get(name):
            endpoint = _endpoint_of(request, team, post[name])
            endpoints.webhook_endpoint_set_active(
                user=request.user, endpoint=endpoint, active=active
            )
            return done, None
    if post.get("ping"):
        webhook_endpoint_ping(user=request.user, endpoint=_endpoint_of(request, team, post["ping"]))
        return PINGED, None
    if post.get("redeliver"):
        delivery = selectors.webhook_delivery_get_for_user(request.user, post["redeliver"])
        if delivery.endpoint.team_id != team.pk:
            raise Http404(NOT_FOUND)
        deliveries.webhook_delivery_redeliver(user=request.user, delivery=delivery)
        return REDELIVERED, None
    _, secret = endpoints.webhook_endpoint_create(
        user=request.user,
        team=team,
        url=post.get("url", "").strip(),
        events=post.getlist("events"),
        secret=post.get("secret", "").strip() or None,
        description=post.get("description", ""),
    )
    return (CREATED if secret else CREATED_OWN_SECRET), secret


@login_required
def team_webhooks(request, team_id):
    team = selectors.webhook_team_get(request.user, team_id)
    error, secret = None, None
    if request.method == "POST":
        try:
            done, secret = _act(request, team)
        except ApplicationError as exc:
            error = exc.message
        else:
            messages.success(request, done)
            if not secret:  # a generated secret is shown on this answer, once, never again
                return redirect("webhooks:team", team_id=team.pk)
    shown = parse_id(request.GET.get("delivery"))
    delivery = None
    if shown is not None:
        delivery = selectors.webhook_delivery_get_for_user(request.user, shown)
        if delivery.endpoint.team_id != team.pk:
            raise Http404(NOT_FOUND)
    return render(
        request,
        "webhooks/team.html",
        {
            "team": team,
            "endpoints": selectors.webhook_endpoint_list(team=team),
            "deliveries": selectors.webhook_delivery_list(team=team),
            "delivery": delivery,
            "attempts": selectors.webhook_attempt_list(delivery=delivery) if delivery else [],
            "event_types": EVENT_TYPES.items(),
            "error": error,
            "new_secret": secret,
            "form": request.POST if error else {},
        },
        status=400 if error else 200,
    )
