"""The team's webhooks page: add (secret shown once), ping, redeliver, delete; roles."""

from __future__ import annotations

import pytest

from tests.factories import MembershipFactory
from webhooks.models import WebhookDelivery, WebhookEndpoint

pytestmark = pytest.mark.django_db


def page(team):
    return f"/teams/{team.pk}/webhooks/"


def test_it_adds_an_endpoint_and_shows_its_secret_once(
    client, owner, team, receiver, private_allowed
):
    client.force_login(owner)
    answer = client.post(
        page(team), {"url": receiver.url, "events": ["version.frozen", "import.failed"]}
    )
    assert answer.status_code == 200
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.events == ["version.frozen", "import.failed"]
    assert endpoint.secret in answer.content.decode()
    again = client.get(page(team)).content.decode()
    assert receiver.url in again and endpoint.secret not in again


def test_it_says_why_an_address_is_refused_and_stores_nothing(client, owner, team):
    client.force_login(owner)
    answer = client.post(
        page(team), {"url": "http://169.254.169.254/", "events": ["version.frozen"]}
    )
    assert answer.status_code == 400
    assert "link-local" in answer.content.decode()
    assert not WebhookEndpoint.objects.exists()


def test_it_pings_shows_the_log_and_redelivers(
    client, owner, team, receiver, private_allowed, django_capture_on_commit_callbacks
):
    client.force_login(owner)
    client.post(page(team), {"url": receiver.url, "events": ["version.frozen"]})
    endpoint = WebhookEndpoint.objects.get()
    receiver.status, receiver.body = 500, b"receiver broke"
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(page(team), {"ping": endpoint.pk}).status_code == 302
    delivery = WebhookDelivery.objects.get()
    shown = client.get(page(team) + f"?delivery={delivery.pk}").content.decode()
    assert "webhook.test" in shown and "receiver broke" in shown and "Redeliver" in shown
    receiver.status = 200
    with django_capture_on_commit_callbacks(execute=True):
        client.post(page(team), {"redeliver": delivery.pk})
    delivery.refresh_from_db()
    assert delivery.status == "delivered" and len(receiver.requests) == 2
    client.post(page(team), {"delete": endpoint.pk})
    assert not WebhookEndpoint.objects.exists()


def test_it_is_for_owners_and_admins_only(client, make_user, teammate, outsider, team):
    client.force_login(teammate)  # an annotator
    assert client.get(page(team)).status_code == 403
    curator = make_user("erin")
    MembershipFactory(team=team, user=curator, role="curator")
    client.force_login(curator)
    assert (
        client.post(
            page(team), {"url": "http://8.8.8.8/", "events": ["version.frozen"]}
        ).status_code
        == 403
    )
    client.force_login(outsider)
    assert client.get(page(team)).status_code == 404
    assert not WebhookEndpoint.objects.exists()


def test_it_answers_404_for_another_teams_delivery(
    client,
    owner,
    outsider,
    team,
    other_team,
    receiver,
    private_allowed,
    django_capture_on_commit_callbacks,
):
    from webhooks.services.endpoints import webhook_endpoint_create
    from webhooks.services.events import webhook_endpoint_ping

    theirs, _ = webhook_endpoint_create(
        user=outsider, team=other_team, url=receiver.url, events=["version.frozen"]
    )
    with django_capture_on_commit_callbacks(execute=True):
        delivery = webhook_endpoint_ping(user=outsider, endpoint=theirs)
    client.force_login(owner)
    assert client.get(page(team) + f"?delivery={delivery.pk}").status_code == 404
    assert client.post(page(team), {"redeliver": delivery.pk}).status_code == 404
    assert client.post(page(team), {"ping": theirs.pk}).status_code == 404
    refused = client.post(page(team), {"delete": theirs.pk})
    assert refused.status_code == 400 and "No such webhook endpoint" in refused.content.decode()
    assert WebhookEndpoint.objects.filter(pk=theirs.pk).exists()
    assert len(receiver.requests) == 1
