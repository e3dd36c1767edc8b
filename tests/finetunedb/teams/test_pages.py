"""The server-rendered pages a new user walks through."""

import re

from datasets_app.models import Dataset, Example
from finetunedb.teams.models import ApiToken, Membership


def test_it_signs_up_logs_in_and_lands_in_a_new_team(client, db):
    response = client.post(
        "/signup/",
        {"username": "dora", "email": "d@example.com", "password": "a long enough passphrase"},
    )
    assert response.status_code == 302
    page = client.get("/").content.decode()
    assert "dora&#x27;s team" in page
    assert Membership.objects.get(user__username="dora").role == "owner"


def test_it_explains_a_weak_password_on_sign_up(client, db):
    response = client.post("/signup/", {"username": "dora", "password": "123"})
    assert response.status_code == 200
    assert "too short" in response.content.decode()


def test_it_logs_in_with_the_form(client, owner, team):
    response = client.post(
        "/login/", {"username": "alice", "password": "correct horse battery staple"}
    )
    assert response.status_code == 302
    assert "Alpha" in client.get("/").content.decode()


def test_it_sends_security_headers(client, db):
    response = client.get("/login/")
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
    assert response["X-Content-Type-Options"] == "nosniff"


def test_it_creates_a_dataset_and_an_example_in_the_browser(client, owner, team):
    client.force_login(owner)
    response = client.post("/datasets/new/", {"team": team.pk, "name": "faq", "description": ""})
    dataset = Dataset.objects.get(name="faq")
    assert response.url == f"/datasets/{dataset.pk}/"
    response = client.post(
        f"/datasets/{dataset.pk}/examples/new/",
        {
            "system": "",
            "user": "Hi <b>there</b>",
            "assistant": "Hello",
            "status": "draft",
            "tags": "greeting",
        },
    )
    example = Example.objects.get(dataset=dataset)
    assert response.url == f"/examples/{example.pk}/"
    page = client.get(response.url).content.decode()
    assert "Hi &lt;b&gt;there&lt;/b&gt;" in page
    assert "greeting" in page
    # The list's exact count arrives after the page, from the fragment it fetches (issue 16.2).
    assert "1 example" in client.get(f"/datasets/{dataset.pk}/?count=1").content.decode()


def test_it_shows_json_errors_with_their_path(client, owner, dataset):
    client.force_login(owner)
    response = client.post(
        f"/datasets/{dataset.pk}/examples/new/",
        {"messages_json": '[{"role": "robot", "content": "x"}]', "status": "draft"},
    )
    assert response.status_code == 200
    assert "messages[0].role" in response.content.decode()
    assert not Example.objects.exists()


def test_it_shows_a_new_token_once_and_stores_only_its_hash(client, owner):
    client.force_login(owner)
    page = client.post("/tokens/", {"name": "laptop"}).content.decode()
    raw = re.search(r'value="(ftdb_[^"]+)"', page).group(1)
    token = ApiToken.objects.get()
    assert raw not in token.digest
    again = client.get("/tokens/").content.decode()
    assert raw not in again and token.prefix in again
    client.post("/tokens/", {"revoke": token.pk})
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_it_switches_teams(client, owner, team, team_with):
    other = team_with("Zulu", owner=owner)
    client.force_login(owner)
    client.post("/teams/switch/", {"team": other.pk})
    assert "<h1>Zulu</h1>" in client.get("/").content.decode()


def test_it_refuses_to_switch_into_a_foreign_team(client, owner, other_team):
    client.force_login(owner)
    assert client.post("/teams/switch/", {"team": other_team.pk}).status_code == 404


def test_it_redirects_anonymous_visitors_to_login(client, db):
    response = client.get("/datasets/")
    assert response.status_code == 302 and response.url.startswith("/login/")


def test_it_answers_503_with_retry_after_when_the_database_is_busy(
    client, owner, team, monkeypatch
):
    from django.db import OperationalError

    from finetunedb.teams import home_panels

    def locked(*args, **kwargs):
        raise OperationalError("database is locked")

    monkeypatch.setattr(home_panels, "_PANELS", [locked])
    client.force_login(owner)
    response = client.get("/")
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert "try again" in response.content.decode().lower()


def test_it_preselects_the_viewer_role_when_inviting(client, owner, team):
    # An invitation sent without looking at the role must not grant owner (the first choice).
    client.force_login(owner)
    html = client.get(f"/teams/{team.pk}/members/").content.decode()
    invite = html[html.index('id="id_role"') :]
    select = invite[: invite.index("</select>")]
    assert '<option value="viewer" selected>' in select
    assert '<option value="owner" selected>' not in select
