"""A team's webhook endpoints: created, switched on and off, deleted by owners and admins."""

from __future__ import annotations

from django.conf import settings

from finetunedb.events import EVENT_TYPES
from finetunedb.exceptions import ApplicationError
from finetunedb.teams.permissions import Action
from finetunedb.teams.scoping import parse_id, require_role

from .. import guard, signing
from ..models import WebhookEndpoint

MAX_ENDPOINTS = 20
EVENTS_REQUIRED = 'events: list the event types to send, e.g. ["version.frozen"]; known: {known}.'
UNKNOWN_EVENTS = "events: unknown event type(s) {names}; known: {known}."
TOO_MANY = f"A team has at most {MAX_ENDPOINTS} webhook endpoints; delete one first."
ID_REQUIRED = 'Send the id of the endpoint: {"id": <id>}.'
NO_SUCH_ENDPOINT = "No such webhook endpoint in this team."
DESCRIPTION_TOO_LONG = "description: at most 200 characters."


def allow_private() -> bool:
    return bool(getattr(settings, "FINETUNEDB_WEBHOOKS_ALLOW_PRIVATE", False))


def webhook_url_check(url) -> guard.Target:
    """The URL's checked target; ApplicationError (400, field ``url``) when it is refused."""
    try:
        return guard.url_resolve(url, allow_private=allow_private())
    except guard.UnsafeUrl as error:
        raise ApplicationError(f"url: {error}", code="unsafe_url") from None


def webhook_events_clean(events) -> list[str]:
    known = ", ".join(EVENT_TYPES)
    if not isinstance(events, list) or not events or not all(isinstance(e, str) for e in events):
        raise ApplicationError(EVENTS_REQUIRED.format(known=known), code="invalid_events")
    unknown = sorted({e for e in events if e not in EVENT_TYPES})
    if unknown:
        names = ", ".join(repr(e[:60]) for e in unknown[:5])
        raise ApplicationError(
            UNKNOWN_EVENTS.format(names=names, known=known), code="invalid_events"
        )
    return list(dict.fromkeys(events))


def webhook_endpoint_create(
    *, user, team, url, events, secret=None, description: str = ""
) -> tuple[WebhookEndpoint, str | None]:
    """A new endpoint; returns (row, the generated secret or None when the caller sent one)."""
    require_role(user, team.pk, Action.MANAGE_MEMBERS)
    webhook_url_check(url)
    events = webhook_events_clean(events)
    generated = None
    if secret in (None, ""):
        secret = generated = signing.secret_generate()
    else:
        try:
            signing.secret_key(secret)
        except ValueError as error:
            raise ApplicationError(f"secret: {error}", code="invalid_secret") from None
    description = (description or "").strip()
    if len(description) > 200:
        raise ApplicationError(DESCRIPTION_TOO_LONG, code="invalid_description")
    if WebhookEndpoint.objects.filter(team=team).count() >= MAX_ENDPOINTS:
        raise ApplicationError(TOO_MANY, code="too_many_endpoints")
    endpoint = WebhookEndpoint.objects.create(
        team=team, url=url, events=events, secret=secret, description=description, created_by=user
    )
    return endpoint, generated


def _endpoint(*, team, endpoint_id) -> WebhookEndpoint:
    endpoint_id = parse_id(endpoint_id)
    if endpoint_id is None:
        raise ApplicationError(ID_REQUIRED, code="id_required")
    endpoint = WebhookEndpoint.objects.filter(pk=endpoint_id, team=team).first()
    if endpoint is None:
        raise ApplicationError(NO_SUCH_ENDPOINT, code="not_found", status_code=404)
    return endpoint


def webhook_endpoint_delete(*, user, team, endpoint_id) -> None:
    """Delete one endpoint of ``team`` with its deliveries and log."""
    require_role(user, team.pk, Action.MANAGE_MEMBERS)
    _endpoint(team=team, endpoint_id=endpoint_id).delete()


def webhook_endpoint_set_active(
    *, user, endpoint: WebhookEndpoint, active: bool
) -> WebhookEndpoint:
    """Pause or resume an endpoint: a paused one is sent no new events, and a try that falls
    due while it is paused fails (redeliver it once the endpoint is active again)."""
    require_role(user, endpoint.team_id, Action.MANAGE_MEMBERS)
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(active=bool(active))
    endpoint.active = bool(active)
    return endpoint
