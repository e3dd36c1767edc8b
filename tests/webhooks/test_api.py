"""The webhooks API (DESIGN §8): owners and admins manage, the secret is shown once, bad input
stores nothing, another team's objects are 404."""

from __future__ import annotations

import pytest

from tests.factories import MembershipFactory
from webhooks.models import WebhookDelivery, WebhookEndpoint

pytestmark = pytest.mark.django_db

HOOKS = "/api/v1/teams/{}/webhooks/"


@pytest.fixture
def admin(make_user, team):
    user = make_user("dana")
    MembershipFactory(team=team, user=user, role="admin")
    return user


def create(client, team, **body):
    return client.post(
        HOOKS.format(team.pk),
        {"url": "http://127.0.0.1:9/h", "events": ["version.frozen"], **body},
        format="json",
    )


def test_it_creates_an_endpoint_and_shows_the_generated_secret_once(
    api_for, owner, team, private_allowed
):
    client = api_for(owner)
    answer = create(client, team, description="ci")
    assert answer.status_code == 201, answer.json()
    secret = answer.json()["secret"]
    assert secret.startswith("whsec_")
    listed = client.get(HOOKS.format(team.pk)).json()
    assert [e["url"] for e in listed] == ["http://127.0.0.1:9/h"]
    assert "secret" not in listed[0] and secret not in str(listed)
    assert WebhookEndpoint.objects.get().secret == secret


def test_it_keeps_a_secret_the_caller_sent_and_does_not_echo_it(
    api_for, admin, team, private_allowed
):
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    answer = create(api_for(admin), team, secret=secret)
    assert answer.status_code == 201
    assert answer.json()["secret"] is None
    assert WebhookEndpoint.objects.get().secret == secret


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "ftp://127.0.0.1/"}, "url"),
        ({"events": []}, "events"),
        ({"events": ["version.frozen", "nope"]}, "nope"),
        ({"events": "version.frozen"}, "events"),
        ({"secret": "hunter2"}, "secret"),
        ({"url": "http://127.0.0.1/" + "a" * 2100}, "url"),
    ],
)
def test_it_refuses_bad_input_and_stores_nothing(
    api_for, owner, team, private_allowed, body, field
):
    answer = create(api_for(owner), team, **body)
    assert answer.status_code == 400
    assert field in str(answer.json())
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://2130706433/",
        "http://0177.0.0.1/",
        "http://10.0.0.8/",
    ],
)
def test_it_refuses_a_private_address_without_the_setting(api_for, owner, team, url):
    answer = create(api_for(owner), team, url=url)
    assert answer.status_code == 400
    assert "public addresses" in answer.json()["detail"]
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize("role", ["curator", "annotator", "viewer"])
def test_it_lets_only_owners_and_admins_manage(api_for, make_user, team, role, private_allowed):
    user = make_user(f"u-{role}")
    MembershipFactory(team=team, user=user, role=role)
    client = api_for(user)
    assert client.get(HOOKS.format(team.pk)).status_code == 403
    assert create(client, team).status_code == 403
    assert not WebhookEndpoint.objects.exists()


def test_it_answers_404_for_another_teams_webhooks(
    api_for, owner, outsider, team, receiver, private_allowed, django_capture_on_commit_callbacks
):
    client = api_for(owner)
    endpoint_id = create(client, team, url=receiver.url).json()["id"]
    with django_capture_on_commit_callbacks(execute=True):
        ping = client.post(f"/api/v1/webhooks/{endpoint_id}/ping/")
    assert ping.status_code == 202
    delivery_id = ping.json()["id"]
    stranger = api_for(outsider)
    assert stranger.get(HOOKS.format(team.pk)).status_code == 404
    assert create(stranger, team).status_code == 404
    assert (
        stranger.delete(HOOKS.format(team.pk), {"id": endpoint_id}, format="json").status_code
        == 404
    )
    assert (
        stranger.patch(
            f"/api/v1/webhooks/{endpoint_id}/", {"active": False}, format="json"
        ).status_code
        == 404
    )
    assert stranger.post(f"/api/v1/webhooks/{endpoint_id}/ping/").status_code == 404
    assert stranger.get(f"/api/v1/teams/{team.pk}/webhooks/deliveries/").status_code == 404
    assert stranger.get(f"/api/v1/webhook-deliveries/{delivery_id}/").status_code == 404
    assert stranger.post(f"/api/v1/webhook-deliveries/{delivery_id}/redeliver/").status_code == 404
    assert WebhookEndpoint.objects.get().active
    assert len(receiver.requests) == 1


def test_it_pings_lists_deliveries_with_their_log_and_redelivers(
    api_for, owner, team, receiver, private_allowed, django_capture_on_commit_callbacks
):
    client = api_for(owner)
    endpoint_id = create(client, team, url=receiver.url).json()["id"]
    receiver.status, receiver.body = 503, b"try later"
    with django_capture_on_commit_callbacks(execute=True):
        delivery_id = client.post(f"/api/v1/webhooks/{endpoint_id}/ping/").json()["id"]
    listed = client.get(
        f"/api/v1/teams/{team.pk}/webhooks/deliveries/?endpoint={endpoint_id}"
    ).json()
    assert [(d["id"], d["type"], d["status"], d["last_status_code"]) for d in listed] == [
        (delivery_id, "webhook.test", "pending", 503)
    ]
    detail = client.get(f"/api/v1/webhook-deliveries/{delivery_id}/").json()
    assert detail["payload"]["type"] == "webhook.test"
    assert [(a["number"], a["status_code"], a["response_head"]) for a in detail["attempts"]] == [
        (1, 503, "try later")
    ]
    receiver.status = 200
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(f"/api/v1/webhook-deliveries/{delivery_id}/redeliver/")
    assert answer.status_code == 202
    assert WebhookDelivery.objects.get(pk=delivery_id).status == "delivered"


def test_it_deletes_and_pauses_an_endpoint(api_for, owner, team, private_allowed):
    client = api_for(owner)
    endpoint_id = create(client, team).json()["id"]
    paused = client.patch(f"/api/v1/webhooks/{endpoint_id}/", {"active": False}, format="json")
    assert paused.status_code == 200 and paused.json()["active"] is False
    assert client.delete(HOOKS.format(team.pk), {"id": "x"}, format="json").status_code == 400
    assert (
        client.delete(HOOKS.format(team.pk), {"id": endpoint_id + 99}, format="json").status_code
        == 404
    )
    assert (
        client.delete(HOOKS.format(team.pk), {"id": endpoint_id}, format="json").status_code == 204
    )
    assert not WebhookEndpoint.objects.exists()


def test_it_caps_the_endpoints_of_a_team(api_for, owner, team, private_allowed):
    from webhooks.services.endpoints import MAX_ENDPOINTS

    client = api_for(owner)
    for _ in range(MAX_ENDPOINTS):
        assert create(client, team).status_code == 201
    answer = create(client, team)
    assert answer.status_code == 400 and "at most" in answer.json()["detail"]
