from datetime import timedelta

import pytest
from django.utils import timezone

from finetunedb.teams.models import Invitation, Membership

pytestmark = pytest.mark.django_db


@pytest.fixture
def invited(api_for, owner, team, outsider):
    """charlie's open invitation to Alpha as curator, sent by alice (owner)."""
    response = api_for(owner).post(
        f"/api/v1/teams/{team.pk}/members/", {"user": "charlie", "role": "curator"}, format="json"
    )
    assert response.status_code == 202
    return Invitation.objects.get(team=team, invitee=outsider)


def test_it_shows_the_invitee_their_invitation(api_for, outsider, invited, team):
    (row,) = api_for(outsider).get("/api/v1/invitations/").json()
    assert row["team"] == {"id": team.pk, "name": "Alpha"}
    assert (row["role"], row["invited_by"]) == ("curator", "alice")


def test_it_shows_nobody_else_the_invitation(api_for, teammate, invited):
    bob = api_for(teammate)
    assert bob.get("/api/v1/invitations/").json() == []
    assert bob.post(f"/api/v1/invitations/{invited.pk}/accept/").status_code == 404
    assert bob.post(f"/api/v1/invitations/{invited.pk}/decline/").status_code == 404


def test_it_joins_the_team_with_the_invited_role_once(api_for, outsider, invited, team):
    charlie = api_for(outsider)
    accepted = charlie.post(f"/api/v1/invitations/{invited.pk}/accept/")
    assert accepted.status_code == 200
    assert accepted.json()["my_role"] == "curator"
    assert Membership.objects.get(team=team, user=outsider).role == "curator"
    assert charlie.post(f"/api/v1/invitations/{invited.pk}/accept/").status_code == 409
    assert charlie.get("/api/v1/invitations/").json() == []


def test_it_declines(api_for, outsider, invited, team):
    charlie = api_for(outsider)
    assert charlie.post(f"/api/v1/invitations/{invited.pk}/decline/").status_code == 204
    assert charlie.post(f"/api/v1/invitations/{invited.pk}/accept/").status_code == 409
    assert not Membership.objects.filter(team=team, user=outsider).exists()


def test_it_lets_an_admin_revoke(api_for, owner, outsider, invited, team):
    alice = api_for(owner)
    url = f"/api/v1/teams/{team.pk}/invitations/"
    assert [r["invited_as"] for r in alice.get(url).json()] == ["charlie"]
    assert alice.delete(f"{url}{invited.pk}/").status_code == 204
    assert alice.get(url).json() == []
    assert api_for(outsider).post(f"/api/v1/invitations/{invited.pk}/accept/").status_code == 409


def test_it_expires_invitations(api_for, outsider, invited):
    Invitation.objects.filter(pk=invited.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    charlie = api_for(outsider)
    assert charlie.get("/api/v1/invitations/").json() == []
    assert charlie.post(f"/api/v1/invitations/{invited.pk}/accept/").status_code == 409


def test_it_drops_an_invitation_whose_sender_lost_the_right(api_for, teammate, team, outsider):
    Membership.objects.filter(user=teammate).update(role="admin")
    api_for(teammate).post(f"/api/v1/teams/{team.pk}/members/", {"user": "charlie"}, format="json")
    invitation = Invitation.objects.get(invitee=outsider)
    Membership.objects.filter(user=teammate).update(role="viewer")
    charlie = api_for(outsider)
    assert charlie.post(f"/api/v1/invitations/{invitation.pk}/accept/").status_code == 409
    assert not Membership.objects.filter(team=team, user=outsider).exists()


def test_it_accepts_and_declines_from_the_home_page(client, outsider, invited, team):
    client.force_login(outsider)
    page = client.get("/").content.decode()
    assert f"/invitations/{invited.pk}/accept/" in page and "Alpha" in page
    client.post(f"/invitations/{invited.pk}/accept/")
    assert Membership.objects.filter(team=team, user=outsider).exists()
    assert client.post(f"/invitations/{invited.pk}/decline/").status_code == 302
    assert Invitation.objects.get(pk=invited.pk).status == "accepted"


def test_it_invites_lists_and_revokes_on_the_members_page(client, owner, team):
    client.force_login(owner)
    client.post(f"/teams/{team.pk}/members/", {"user": "someone@example.com", "role": "viewer"})
    page = client.get(f"/teams/{team.pk}/members/").content.decode()
    assert "someone@example.com" in page
    invitation = Invitation.objects.get(invited_as="someone@example.com")
    client.post(f"/teams/{team.pk}/members/", {"revoke": invitation.pk})
    assert Invitation.objects.get(pk=invitation.pk).status == "revoked"


def test_it_changes_a_role_on_the_members_page(client, owner, teammate, team):
    client.force_login(owner)
    client.post(f"/teams/{team.pk}/members/", {"set_role": teammate.pk, "role": "curator"})
    assert Membership.objects.get(team=team, user=teammate).role == "curator"


def test_it_shows_invitation_text_as_text(client, owner, outsider, invited, team):
    team.name = '<img src=x onerror="alert(1)">'
    team.save()
    client.force_login(owner)
    client.post(f"/teams/{team.pk}/members/", {"user": "<b>x</b>", "role": "viewer"})
    members = client.get(f"/teams/{team.pk}/members/").content.decode()
    client.force_login(outsider)
    home = client.get("/").content.decode()
    for page in (members, home):
        assert "<img src=x" not in page and "<b>x</b>" not in page
    assert "&lt;img src=x" in home and "&lt;b&gt;x&lt;/b&gt;" in members
