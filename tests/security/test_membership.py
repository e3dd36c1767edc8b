"""Issue 14 item 6 and item 3 (team limit): nobody joins a team without consenting, inviting
tells nothing about which accounts exist, any member can leave (not the last owner), a team
someone else got you into never becomes your current team, and team creation is bounded."""

import re

import pytest
from django.test import Client

from finetunedb.teams.models import Invitation, Membership, Team

pytestmark = pytest.mark.django_db
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="[^"]*"')

# Unknown, known outside the team, already in it, each by username and by email; ids too.
IDENTIFIERS = [
    "nobody-at-all",
    "charlie",
    "bob",
    "alice",
    "nobody@example.com",
    "charlie@example.com",
    "CHARLIE@EXAMPLE.COM",
    "bob@example.com",
    "12345",
]


@pytest.fixture
def invite(api_for, owner, team):
    alice = api_for(owner)

    def send(identifier, role="viewer"):
        return alice.post(
            f"/api/v1/teams/{team.pk}/members/", {"user": identifier, "role": role}, format="json"
        )

    return send


def test_it_adds_nobody_by_user_id_username_or_email(invite, team, outsider, client, owner):
    for identifier in (str(outsider.pk), "charlie", "charlie@example.com"):
        assert invite(identifier).status_code == 202
    client.force_login(owner)
    client.post(f"/teams/{team.pk}/members/", {"user": "charlie", "role": "admin"})
    assert not Membership.objects.filter(team=team, user=outsider).exists()


def test_it_answers_every_identifier_with_the_same_bytes(invite, outsider):
    answers = {(r.status_code, r.content) for r in map(invite, IDENTIFIERS)}
    assert len(answers) == 1, answers
    ((status, body),) = answers
    assert status == 202
    for name in ("charlie", "bob", "alice", str(outsider.pk)):
        assert name.encode() not in body


def test_it_lists_every_pending_invitation_alike(invite, api_for, owner, team):
    for identifier in IDENTIFIERS:
        invite(identifier)
    rows = api_for(owner).get(f"/api/v1/teams/{team.pk}/invitations/").json()
    assert sorted(r["invited_as"] for r in rows) == sorted(IDENTIFIERS)
    assert {tuple(sorted(r)) for r in rows} == {
        ("created_at", "expires_at", "id", "invited_as", "invited_by", "role")
    }
    assert {(r["role"], r["invited_by"]) for r in rows} == {("viewer", "alice")}


def test_it_answers_the_members_page_alike(client, owner, team, outsider):
    client.force_login(owner)
    pages = set()
    for identifier in IDENTIFIERS:
        response = client.post(
            f"/teams/{team.pk}/members/", {"user": identifier, "role": "viewer"}, follow=True
        )
        page = response.content.decode().split("<h2>Pending invitations</h2>")[0]
        pages.add((response.status_code, CSRF.sub("", page)))
    assert len(pages) == 1


def test_it_refuses_removing_an_unknown_user_like_a_non_member(api_for, owner, team, outsider):
    alice = api_for(owner)
    answers = {
        (r.status_code, r.content)
        for r in (
            alice.delete(f"/api/v1/teams/{team.pk}/members/?user={who}")
            for who in ("nobody-at-all", "charlie", "charlie@example.com", "nobody@example.com")
        )
    }
    assert len(answers) == 1 and next(iter(answers))[0] == 404
    patch = {
        alice.patch(
            f"/api/v1/teams/{team.pk}/members/{uid}/", {"role": "viewer"}, format="json"
        ).content
        for uid in (outsider.pk, 999999)
    }
    assert len(patch) == 1


def test_it_refuses_an_owner_invitation_from_an_admin_whoever_it_names(api_for, teammate, team):
    Membership.objects.filter(user=teammate).update(role="admin")
    bob = api_for(teammate)
    answers = {
        (r.status_code, r.content)
        for r in (
            bob.post(
                f"/api/v1/teams/{team.pk}/members/",
                {"user": who, "role": "owner"},
                format="json",
            )
            for who in ("charlie", "nobody-at-all")
        )
    }
    assert len(answers) == 1 and next(iter(answers))[0] == 403
    assert not Invitation.objects.exists()


def test_it_mails_only_registered_addresses(
    invite, outsider, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        for identifier in ("nobody@example.com", "charlie@EXAMPLE.com", "bob", "nobody"):
            invite(identifier)
    assert [m.to for m in mailoutbox] == [["charlie@example.com"]]


def test_it_answers_the_same_when_mail_cannot_be_queued(
    invite, monkeypatch, django_capture_on_commit_callbacks
):
    from finetunedb.teams import tasks

    def broker_down(*args, **kwargs):
        raise OSError("broker unreachable")

    monkeypatch.setattr(tasks.invitation_email_send, "delay", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        answers = {(r.status_code, r.content) for r in map(invite, ["charlie", "nobody-at-all"])}
    assert len(answers) == 1 and next(iter(answers))[0] == 202


def test_it_mails_a_team_name_with_line_breaks_on_one_line(
    invite, team, mailoutbox, django_capture_on_commit_callbacks, outsider
):
    Team.objects.filter(pk=team.pk).update(name="Alpha\r\nBcc: victim@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        assert invite("charlie").status_code == 202
    (message,) = mailoutbox
    assert "\n" not in message.subject and "\r" not in message.subject
    assert message.to == ["charlie@example.com"] and not message.bcc


def test_it_counts_every_invitation_towards_the_daily_limit(invite, settings):
    settings.FINETUNEDB_MAX_INVITATIONS_PER_TEAM_PER_DAY = 2
    assert invite("charlie").status_code == 202
    assert invite("nobody-at-all").status_code == 202
    refused = {(r.status_code, r.content) for r in map(invite, ["someone", "bob", "x@y.z"])}
    assert len(refused) == 1 and next(iter(refused))[0] == 409
    assert invite("charlie").status_code == 202  # a resend refreshes, it is not a new one


def test_it_lets_a_viewer_leave(api_for, teammate, team, dataset):
    Membership.objects.filter(user=teammate).update(role="viewer")
    bob = api_for(teammate)
    response = bob.delete(f"/api/v1/teams/{team.pk}/members/?user=bob")
    assert response.status_code == 204
    assert not Membership.objects.filter(team=team, user=teammate).exists()
    assert bob.get(f"/api/v1/datasets/{dataset.pk}/").status_code == 404


@pytest.mark.parametrize("role", ["viewer", "annotator", "curator", "admin"])
def test_it_lets_any_member_leave_from_the_members_page(client, teammate, team, role):
    Membership.objects.filter(user=teammate).update(role=role)
    client.force_login(teammate)
    page = client.get(f"/teams/{team.pk}/members/").content.decode()
    assert f'action="/teams/{team.pk}/leave/"' in page
    response = client.post(f"/teams/{team.pk}/leave/")
    assert response.status_code == 302
    assert not Membership.objects.filter(team=team, user=teammate).exists()


def test_it_lets_a_member_leave_through_the_member_route(api_for, teammate, team):
    response = api_for(teammate).delete(f"/api/v1/teams/{team.pk}/members/{teammate.pk}/")
    assert response.status_code == 204
    assert not Membership.objects.filter(team=team, user=teammate).exists()


def test_it_keeps_the_last_owner_in(api_for, owner, team, client):
    alice = api_for(owner)
    assert alice.delete(f"/api/v1/teams/{team.pk}/members/?user=alice").status_code == 409
    assert alice.delete(f"/api/v1/teams/{team.pk}/members/{owner.pk}/").status_code == 409
    client.force_login(owner)
    response = client.post(f"/teams/{team.pk}/leave/", follow=True)
    assert "last owner" in response.content.decode()
    assert Membership.objects.filter(team=team, user=owner, role="owner").exists()


def test_it_lets_an_owner_leave_when_another_owner_remains(api_for, owner, teammate, team):
    Membership.objects.filter(user=teammate).update(role="owner")
    assert api_for(owner).delete(f"/api/v1/teams/{team.pk}/members/?user=alice").status_code == 204


def _home_team(user) -> str:
    """The current team's name on the home page of a fresh sign-in."""
    browser = Client()
    browser.force_login(user)
    return browser.get("/").context["current_team"].name


def test_it_never_makes_a_bait_team_current(api_for, owner, outsider, team):
    charlie = api_for(outsider)
    bait = charlie.post("/api/v1/teams/", {"name": "AAA bait"}, format="json").json()["id"]
    charlie.post(
        f"/api/v1/teams/{bait}/members/", {"user": "alice", "role": "admin"}, format="json"
    )
    assert _home_team(owner) == "Alpha"

    alice = api_for(owner)
    (invitation,) = alice.get("/api/v1/invitations/").json()
    assert alice.post(f"/api/v1/invitations/{invitation['id']}/accept/").status_code == 200
    assert Membership.objects.filter(team_id=bait, user=owner).exists()
    assert _home_team(owner) == "Alpha"


def test_it_keeps_the_session_team_when_accepting(client, owner, outsider, team, team_with):
    bait = team_with("AAA bait", owner=outsider)
    Invitation.objects.create(
        team=bait,
        invited_as="alice",
        invitee=owner,
        invited_by=outsider,
        role="viewer",
        expires_at="2999-01-01T00:00Z",
    )
    client.force_login(owner)
    invitation = client.get("/").context["invitations"][0]
    client.post(f"/invitations/{invitation.pk}/accept/")
    assert client.get("/").context["current_team"].name == "Alpha"


def test_it_remembers_the_team_chosen_in_the_switcher(client, owner, outsider, team, team_with):
    other = team_with("Zulu", owner=outsider)
    Membership.objects.create(team=other, user=owner, role="viewer")
    team_with("AAA", owner=owner)  # older than nothing chosen: created by the ORM, not chosen
    client.force_login(owner)
    client.post("/teams/switch/", {"team": other.pk})
    assert _home_team(owner) == "Zulu"


def test_it_falls_back_to_the_oldest_membership_not_the_first_name(owner, outsider, team_with):
    team_with("Mine", owner=owner)
    team_with("AAA bait", owner=outsider, viewer=owner)
    assert _home_team(owner) == "Mine"


def test_it_limits_how_many_teams_one_user_creates(api_for, outsider, settings, client):
    settings.FINETUNEDB_MAX_TEAMS_PER_USER = 2
    charlie = api_for(outsider)
    assert charlie.post("/api/v1/teams/", {"name": "One"}, format="json").status_code == 201
    assert charlie.post("/api/v1/teams/", {"name": "Two"}, format="json").status_code == 201
    refused = charlie.post("/api/v1/teams/", {"name": "Three"}, format="json")
    assert refused.status_code == 409
    assert "limit of 2 teams" in refused.json()["detail"]
    client.force_login(outsider)
    page = client.post("/teams/new/", {"name": "Four"}, follow=True)
    assert "limit of 2 teams" in page.content.decode()
    assert Team.objects.filter(created_by=outsider).count() == 2


def test_it_counts_the_signup_team_and_teams_handed_over(api_for, client, settings):
    settings.FINETUNEDB_MAX_TEAMS_PER_USER = 2
    client.post("/signup/", {"username": "dana", "password": "correct horse battery staple"})
    dana = Team.objects.get(name="dana's team").created_by
    api = api_for(dana)
    second = api.post("/api/v1/teams/", {"name": "Two"}, format="json").json()["id"]
    Membership.objects.filter(team_id=second, user=dana).delete()  # handed over and left
    assert api.post("/api/v1/teams/", {"name": "Three"}, format="json").status_code == 409
