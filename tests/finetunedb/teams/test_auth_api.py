import hashlib

from finetunedb.teams.models import ApiToken

TOKEN_URL = "/api/v1/auth/token/"


def test_it_issues_a_token_for_good_credentials(client, owner):
    response = client.post(
        TOKEN_URL,
        {"username": "alice", "password": "correct horse battery staple"},
        content_type="application/json",
    )
    assert response.status_code == 200
    raw = response.json()["token"]
    assert raw.startswith("ftdb_")
    stored = ApiToken.objects.get(user=owner)
    assert stored.digest == hashlib.sha256(raw.encode()).hexdigest()
    assert raw not in (stored.prefix + stored.digest + stored.name) or stored.prefix == raw[:12]


def test_it_refuses_bad_credentials_with_a_clear_error(client, owner):
    response = client.post(
        TOKEN_URL, {"username": "alice", "password": "wrong"}, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "authentication_failed"
    assert not ApiToken.objects.exists()


def test_it_answers_401_without_credentials(client, db):
    response = client.get("/api/v1/datasets/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


def test_it_authenticates_with_the_token(api_for, owner):
    response = api_for(owner).get("/api/v1/me/")
    assert response.status_code == 200
    assert response.json()["username"] == "alice"


def test_it_rejects_a_revoked_token(api_for, owner):
    client = api_for(owner)
    ApiToken.objects.update(revoked_at="2026-01-01T00:00:00Z")
    assert client.get("/api/v1/me/").status_code == 401


def test_it_rejects_a_token_in_the_query_string(client, owner):
    from finetunedb.teams.services import api_token_create

    _, raw = api_token_create(user=owner, name="x")
    assert client.get(f"/api/v1/me/?token={raw}").status_code == 401


def test_it_rejects_session_writes_without_csrf(owner, team):
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)
    browser.force_login(owner)
    response = browser.post("/api/v1/teams/", {"name": "x"}, content_type="application/json")
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]
