"""Tokens from POST /auth/token/ do not pile up as indistinguishable "API" rows (issue 16.10e)."""

import re

from django.utils import timezone

from finetunedb.teams.models import ApiToken
from finetunedb.teams.services import api_token_create

TOKEN_URL = "/api/v1/auth/token/"
CREDENTIALS = {"username": "alice", "password": "correct horse battery staple"}


def _obtain(client, **extra):
    return client.post(TOKEN_URL, {**CREDENTIALS, **extra}, content_type="application/json")


def test_it_names_a_token_by_its_creation_time_when_no_name_is_sent(client, owner):
    response = _obtain(client)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"token", "name"} and body["token"].startswith("ftdb_")
    assert re.fullmatch(r"API token \d{4}-\d{2}-\d{2} \d{2}:\d{2}", body["name"])
    assert body["name"].startswith(f"API token {timezone.now():%Y-%m-%d}")


def test_the_same_name_twice_gives_two_names_one_can_tell_apart(client, owner):
    first = _obtain(client, name="upload script").json()
    second = _obtain(client, name="upload script").json()
    third = _obtain(client, name="upload script").json()
    assert [first["name"], second["name"], third["name"]] == [
        "upload script",
        "upload script (2)",
        "upload script (3)",
    ]
    unnamed = [_obtain(client).json()["name"] for _ in range(2)]
    assert unnamed[0] != unnamed[1] and unnamed[1].endswith(" (2)")
    assert ApiToken.objects.filter(user=owner, name="API").count() == 0


def test_a_revoked_token_frees_its_name(owner):
    token, _ = api_token_create(user=owner, name="ci")
    ApiToken.objects.filter(pk=token.pk).update(revoked_at=timezone.now())
    again, _ = api_token_create(user=owner, name="ci")
    assert again.name == "ci"


def test_the_tokens_page_lists_names_and_last_use(client, owner, api_for):
    api = api_for(owner)  # a token named "tests", used once below
    api.get("/api/v1/me/")
    _obtain(client, name="laptop")
    client.force_login(owner)
    page = client.get("/tokens/").content.decode()
    assert "<td>tests</td>" in page and "<td>laptop</td>" in page
    used = re.search(r"<td>tests</td>.*?</td><td>[^<]*</td>\s*<td>([^<]*)</td>", page, re.S)
    assert used and re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", used.group(1))
    laptop = re.search(r"<td>laptop</td>.*?</td><td>[^<]*</td>\s*<td>([^<]*)</td>", page, re.S)
    assert laptop and laptop.group(1) == "never"


def test_the_page_names_the_token_it_just_created(client, owner):
    client.force_login(owner)
    client.post("/tokens/", {"name": "notebook"})
    page = client.post("/tokens/", {"name": "notebook"}).content.decode()
    assert "Copy your new token “notebook (2)” now" in page
