"""Checklist C (API2, API5): authentication, CSRF, tokens and sign-in throttling."""

import logging

import pytest
from django.core.cache import cache
from django.test import Client

from finetunedb.teams.models import ApiToken
from finetunedb.teams.services import api_token_create
from tests.security.routes import all_routes, fill
from tests.security.test_roles import ANY, EXPECTED, PUBLIC

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"
ROUTES = dict((name, route) for route, name in all_routes())
# Writes that take no session and so need no CSRF token: the token endpoint takes credentials
# in the body and sets no cookie; the OpenAI-compatible endpoint reads only a Bearer token or
# an ingest key, so a session alone gets 401 there (test_it_ignores_a_session_on_the_openai_api).
NO_SESSION = {"api:auth-token", "serving:chat-completions"}
SESSION_WRITES = [
    (name, method)
    for name, methods in EXPECTED.items()
    for method in methods
    if method != "get" and name not in NO_SESSION
]


@pytest.fixture(autouse=True)
def fresh_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.mark.parametrize("name,method", SESSION_WRITES, ids=[f"{n}-{m}" for n, m in SESSION_WRITES])
def test_it_refuses_session_writes_without_a_csrf_token(name, method, owner, objects):
    """C22: every POST/PATCH/DELETE page and API route, with a session and no CSRF token → 403."""
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(owner)
    path = fill(ROUTES[name], objects)
    response = getattr(browser, method)(path, {}, content_type="application/json")
    assert response.status_code == 403, f"{method.upper()} {path}: {response.status_code}"


@pytest.mark.parametrize(
    "name",
    sorted(n for n, m in EXPECTED.items() if n.startswith("api:") and PUBLIC not in m.values()),
)
def test_it_answers_401_to_anonymous_api_callers(name, client, objects):
    """C18: every API route except the token endpoint wants credentials."""
    path = fill(ROUTES[name], objects)
    method = next(iter(EXPECTED[name]))
    assert getattr(client, method)(path).status_code == 401


@pytest.mark.parametrize("param", ["token", "auth_token", "access_token", "key", "api_key"])
def test_it_takes_tokens_only_from_the_authorization_header(param, client, owner):
    """C20: a token in the query string or a form body authenticates nobody."""
    _, raw = api_token_create(user=owner, name="x")
    assert client.get(f"/api/v1/me/?{param}={raw}").status_code == 401
    assert client.post("/api/v1/teams/", {param: raw, "name": "t"}).status_code == 401
    assert client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 401


def test_it_stores_tokens_hashed_and_never_shows_them_again(owner, client):
    """C21: the raw value is in no column, and no page or API read returns it after creation."""
    api = Client()
    issued = api.post(
        "/api/v1/auth/token/", {"username": "alice", "password": PASSWORD}, "application/json"
    )
    raw = issued.json()["token"]
    for row in ApiToken.objects.values():
        assert all(raw not in str(value) for value in row.values())
    client.force_login(owner)
    assert raw not in client.get("/tokens/").content.decode()
    reads = ["/api/v1/me/", "/api/v1/teams/"]
    for path in reads:
        assert raw not in api.get(path, HTTP_AUTHORIZATION=f"Token {raw}").content.decode()


def test_it_logs_neither_tokens_nor_passwords(owner, caplog):
    """C20: a token request and a request made with it leave no secret in any log record."""
    caplog.set_level(logging.DEBUG)
    api = Client()
    issued = api.post(
        "/api/v1/auth/token/", {"username": "alice", "password": PASSWORD}, "application/json"
    )
    raw = issued.json()["token"]
    api.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {raw}")
    api.get("/api/v1/me/?token=" + raw)  # a refused attempt is logged as a 401
    text = "\n".join(r.getMessage() + str(r.args) for r in caplog.records)
    assert raw not in text
    assert PASSWORD not in text


def test_it_throttles_the_token_endpoint(owner, monkeypatch):
    """C23: repeated attempts on the token endpoint → 429."""
    from finetunedb.teams.api.teams import LoginRateThrottle

    monkeypatch.setattr(LoginRateThrottle, "rate", "3/min", raising=False)
    api = Client()
    statuses = [
        api.post(
            "/api/v1/auth/token/", {"username": "alice", "password": "wrong"}, "application/json"
        ).status_code
        for _ in range(5)
    ]
    assert statuses[:3] == [400, 400, 400]
    assert statuses[3:] == [429, 429]


def test_it_cannot_be_unthrottled_by_a_forged_forwarded_header(owner, monkeypatch):
    """C23: a client that sends a new X-Forwarded-For each time is still one client."""
    from finetunedb.teams.api.teams import LoginRateThrottle

    monkeypatch.setattr(LoginRateThrottle, "rate", "3/min", raising=False)
    api = Client()
    statuses = [
        api.post(
            "/api/v1/auth/token/",
            {"username": "alice", "password": "wrong"},
            "application/json",
            HTTP_X_FORWARDED_FOR=f"10.0.0.{i}",
        ).status_code
        for i in range(5)
    ]
    assert statuses[3:] == [429, 429]
    page = Client()
    for i in range(12):
        page.post(
            "/login/", {"username": "alice", "password": "x"}, HTTP_X_FORWARDED_FOR=f"10.1.0.{i}"
        )
    blocked = page.post("/login/", {"username": "alice", "password": PASSWORD})
    assert blocked.status_code == 429


def test_it_throttles_failed_sign_ins_on_the_login_page(owner, settings):
    """C23: after the limit of failures for one address and username the page answers 429,
    even with the right password, until the window passes."""
    settings.FINETUNEDB_LOGIN_FAILURE_LIMIT = 3
    browser = Client()
    wrong = [
        browser.post("/login/", {"username": "alice", "password": "nope"}).status_code
        for _ in range(3)
    ]
    assert wrong == [200, 200, 200]
    blocked = browser.post("/login/", {"username": "alice", "password": PASSWORD})
    assert blocked.status_code == 429
    assert "Too many failed sign-ins" in blocked.content.decode()
    assert "_auth_user_id" not in browser.session
    cache.clear()  # the window passed
    assert browser.post("/login/", {"username": "alice", "password": PASSWORD}).status_code == 302


def test_it_clears_the_failure_count_on_a_successful_sign_in(owner, settings):
    settings.FINETUNEDB_LOGIN_FAILURE_LIMIT = 3
    browser = Client()
    for _ in range(2):
        browser.post("/login/", {"username": "alice", "password": "nope"})
    assert browser.post("/login/", {"username": "alice", "password": PASSWORD}).status_code == 302
    browser.logout()
    for _ in range(2):
        assert browser.post("/login/", {"username": "alice", "password": "x"}).status_code == 200


def test_it_limits_one_address_guessing_many_usernames(owner, settings):
    """C23: spraying usernames from one address hits the per-address limit."""
    settings.FINETUNEDB_LOGIN_FAILURE_LIMIT = 2
    browser = Client()
    for i in range(10):
        browser.post("/login/", {"username": f"user{i}", "password": "x"})
    assert browser.post("/login/", {"username": "alice", "password": PASSWORD}).status_code == 429


def test_it_serves_only_json_from_the_api():
    """F57: no browsable API renderer (its HTML had XSS advisories)."""
    from django.conf import settings

    assert settings.REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"] == [
        "rest_framework.renderers.JSONRenderer"
    ]


def test_it_keeps_everything_but_the_login_routes_behind_a_session(client, objects):
    """C18 for pages: signed out, every page that is not public redirects to the login page."""
    for name, methods in EXPECTED.items():
        if name.startswith("api:") or PUBLIC in methods.values() or ANY == methods.get("get"):
            continue
        if "get" not in methods:
            continue
        response = client.get(fill(ROUTES[name], objects))
        assert response.status_code == 302 and "/login/" in response["Location"], name


def test_it_throttles_the_admin_login_like_the_login_page(owner, settings):
    """C23: the admin's sign-in shares the login page's failure count: 25 wrong passwords, then
    the right one, is refused with 429."""
    from django.contrib.auth import get_user_model

    get_user_model().objects.filter(pk=owner.pk).update(is_staff=True, is_superuser=True)
    settings.FINETUNEDB_LOGIN_FAILURE_LIMIT = 3
    browser = Client()
    for _ in range(25):
        browser.post("/admin/login/", {"username": "alice", "password": "nope"})
    blocked = browser.post("/admin/login/", {"username": "alice", "password": PASSWORD})
    assert blocked.status_code == 429
    assert "_auth_user_id" not in browser.session
    assert browser.post("/login/", {"username": "alice", "password": PASSWORD}).status_code == 429


def test_it_counts_login_page_failures_against_the_admin_login(owner, settings):
    from django.contrib.auth import get_user_model

    get_user_model().objects.filter(pk=owner.pk).update(is_staff=True, is_superuser=True)
    settings.FINETUNEDB_LOGIN_FAILURE_LIMIT = 3
    browser = Client()
    for _ in range(3):
        browser.post("/login/", {"username": "alice", "password": "nope"})
    assert (
        browser.post("/admin/login/", {"username": "alice", "password": PASSWORD}).status_code
        == 429
    )


def test_it_serves_the_admin_only_to_allowed_addresses(owner, settings, admin_client):
    settings.FINETUNEDB_ADMIN_ALLOWED_IPS = ["10.9.9.9"]
    assert admin_client.get("/admin/login/").status_code == 404
    page = admin_client.get("/admin/teams/team/")
    assert page.status_code == 302 and "/admin/login/" in page["Location"]
    settings.FINETUNEDB_ADMIN_ALLOWED_IPS = ["127.0.0.1"]
    assert admin_client.get("/admin/teams/team/").status_code == 200


def test_it_turns_the_admin_off_in_production_unless_enabled(tmp_path):
    """The production settings leave /admin/ out of the URL conf unless FINETUNEDB_ADMIN_ENABLED."""
    import os
    import subprocess
    import sys

    probe = (
        "import django; django.setup(); from django.urls import resolve, Resolver404\n"
        "try:\n    resolve('/admin/login/'); print('admin on')\n"
        "except Resolver404:\n    print('admin off')\n"
    )
    base = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "finetunedb.settings.production",
        "SECRET_KEY": "k" * 30 + "0123456789abcdefghij",
        "DATA_DIR": str(tmp_path),
    }
    base.pop("FINETUNEDB_ADMIN_ENABLED", None)
    seen = {}
    for enabled in (None, "1"):
        env = dict(base) if enabled is None else {**base, "FINETUNEDB_ADMIN_ENABLED": enabled}
        result = subprocess.run(
            [sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=120
        )
        seen[enabled] = result.stdout.strip() or result.stderr[-500:]
    assert seen == {None: "admin off", "1": "admin on"}


def _active_tokens(user) -> int:
    return ApiToken.objects.filter(user=user, revoked_at__isnull=True).count()


def test_it_revokes_api_tokens_on_a_password_change_and_says_so(owner, client):
    _, raw = api_token_create(user=owner, name="laptop")
    api_token_create(user=owner, name="ci")
    api = Client()
    assert api.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {raw}").status_code == 200
    client.force_login(owner)
    before = client.get("/password/").content.decode()
    assert "Changing your password signs out your API tokens: 2 tokens will be revoked" in before
    response = client.post(
        "/password/",
        {
            "old_password": PASSWORD,
            "new_password1": "a new and long passphrase 42",
            "new_password2": "a new and long passphrase 42",
        },
        follow=True,
    )
    assert response.status_code == 200
    assert "2 API token(s) revoked" in response.content.decode()
    assert api.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {raw}").status_code == 401
    assert _active_tokens(owner) == 0
    # the changer's own session survives (update_session_auth_hash)
    assert client.get("/tokens/").status_code == 200


def test_it_keeps_tokens_when_the_password_change_is_refused(owner, client):
    api_token_create(user=owner, name="laptop")
    client.force_login(owner)
    client.post(
        "/password/",
        {"old_password": "wrong", "new_password1": "x1y2z3w4v5", "new_password2": "x1y2z3w4v5"},
    )
    assert _active_tokens(owner) == 1


@pytest.mark.parametrize("path", ["admin", "set_password"])
def test_it_revokes_api_tokens_on_every_password_change_path(path, owner, admin_client):
    """The admin's password form and any code calling set_password + save (changepassword)
    revoke too, not only the password page."""
    _, raw = api_token_create(user=owner, name="laptop")
    if path == "admin":
        response = admin_client.post(
            f"/admin/auth/user/{owner.pk}/password/",
            {"password1": "another long passphrase 7", "password2": "another long passphrase 7"},
        )
        assert response.status_code == 302
    else:
        owner.set_password("another long passphrase 7")
        owner.save()
    assert _active_tokens(owner) == 0
    assert Client().get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {raw}").status_code == 401


def test_it_keeps_tokens_when_a_sign_in_only_upgrades_the_password_hash(owner, settings):
    """A hash upgrade at sign-in is not a password change (the suite hashes with MD5; making
    PBKDF2 the preferred hasher upgrades the stored hash at the next sign-in)."""
    api_token_create(user=owner, name="laptop")
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
        "django.contrib.auth.hashers.MD5PasswordHasher",
    ]
    assert Client().post("/login/", {"username": "alice", "password": PASSWORD}).status_code == 302
    owner.refresh_from_db()
    assert owner.password.startswith("pbkdf2_sha256$")
    assert _active_tokens(owner) == 1


def test_it_ignores_a_session_on_the_openai_api(owner):
    """A signed-in browser cannot be made to call /v1/chat/completions cross-site: the route
    takes no session, so without a Bearer credential it answers 401 whatever the cookies."""
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(owner)
    body = {"model": "x", "messages": [{"role": "user", "content": "hi"}]}
    response = browser.post("/v1/chat/completions", body, content_type="application/json")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_api_key"
