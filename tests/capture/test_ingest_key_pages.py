"""The ingest keys page: an owner creates a key (shown once), sees it listed with last use, and
revokes it; the key then stops writing logs. Annotators get 403, other teams 404."""

import re

import pytest
from rest_framework.test import APIClient

from capture.models import IngestKey

pytestmark = pytest.mark.django_db

LOG = {
    "messages": [{"role": "user", "content": "hi"}],
    "response": {"role": "assistant", "content": "hello"},
    "model": "m",
}


def test_it_creates_shows_once_lists_and_revokes_a_key(client, owner, team):
    client.force_login(owner)
    url = f"/teams/{team.pk}/ingest-keys/"
    assert "No ingest keys yet." in client.get(url).content.decode()
    page = client.post(url, {"name": "checkout-service"}).content.decode()
    raw = re.search(r'id="new-key" readonly value="(ftdbi_[^"]+)"', page).group(1)
    assert "will not be shown again" in page
    key = IngestKey.objects.get(team=team)
    assert key.name == "checkout-service" and raw not in str(key.__dict__)

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {raw}")
    assert api.post("/api/v1/logs/", LOG, format="json").status_code == 202
    listed = client.get(url).content.decode()
    assert raw not in listed and "checkout-service" in listed and "never" not in listed

    done = client.post(url, {"revoke": key.pk}, follow=True).content.decode()
    assert "Key revoked" in done and "revoked" in done
    assert api.post("/api/v1/logs/", LOG, format="json").status_code == 401


def test_it_says_what_is_wrong_with_a_name_and_creates_nothing(client, owner, team):
    client.force_login(owner)
    page = client.post(f"/teams/{team.pk}/ingest-keys/", {"name": "  "}).content.decode()
    assert "Give the ingest key a name" in page and 'id="new-key"' not in page
    assert not IngestKey.objects.exists()


def test_it_refuses_annotators_and_hides_other_teams(client, teammate, outsider, team):
    client.force_login(teammate)  # an annotator of the team
    assert client.get(f"/teams/{team.pk}/ingest-keys/").status_code == 403
    assert client.post(f"/teams/{team.pk}/ingest-keys/", {"name": "x"}).status_code == 403
    client.force_login(outsider)
    assert client.get(f"/teams/{team.pk}/ingest-keys/").status_code == 404
    assert not IngestKey.objects.exists()


def test_the_members_page_links_the_keys_for_those_who_manage(client, owner, teammate, team):
    client.force_login(owner)
    page = client.get(f"/teams/{team.pk}/members/").content.decode()
    assert f'href="/teams/{team.pk}/ingest-keys/"' in page
    client.force_login(teammate)
    page = client.get(f"/teams/{team.pk}/members/").content.decode()
    assert "ingest-keys" not in page


def test_it_saves_the_capture_settings_and_refuses_a_bad_number(client, owner, team):
    client.force_login(owner)
    url = f"/teams/{team.pk}/ingest-keys/"
    done = client.post(url, {"save_settings": "1", "redact_pii": "on", "retention_days": "30"})
    assert done.status_code == 302
    team.refresh_from_db()
    assert team.log_redact_pii is True and team.log_retention_days == 30
    page = client.get(url).content.decode()
    assert 'name="redact_pii" checked' in page and 'value="30"' in page

    bad = client.post(url, {"save_settings": "1", "retention_days": "forever"}).content.decode()
    assert "retention_days is a whole number of days" in bad
    bad = client.post(url, {"save_settings": "1", "retention_days": "0"}).content.decode()
    assert "retention_days is a whole number of days" in bad
    team.refresh_from_db()
    assert team.log_redact_pii is True and team.log_retention_days == 30  # nothing changed

    client.post(url, {"save_settings": "1", "retention_days": ""})
    team.refresh_from_db()
    assert team.log_redact_pii is False and team.log_retention_days is None


def test_an_annotator_cannot_change_the_settings(client, teammate, team):
    client.force_login(teammate)
    url = f"/teams/{team.pk}/ingest-keys/"
    assert client.post(url, {"save_settings": "1", "redact_pii": "on"}).status_code == 403
    team.refresh_from_db()
    assert team.log_redact_pii is False
