"""Open redirects (ASVS 50.3): every redirect target taken from a request stays on this site."""

import pytest

pytestmark = pytest.mark.django_db

OFF_SITE = [
    "//evil.com/x",
    "///evil.com/x",
    "/\\evil.com",
    "\\\\evil.com",
    "https://evil.com/",
    "http://evil.com",
    "javascript:alert(1)",
    "\t//evil.com",
    " //evil.com",
    "https:evil.com",
    "//testserver@evil.com",
]


@pytest.mark.parametrize("target", OFF_SITE)
def test_it_never_sends_the_team_switcher_elsewhere(target, client, owner, team):
    client.force_login(owner)
    response = client.post("/teams/switch/", {"team": team.pk, "next": target})
    assert response.status_code == 302
    assert response["Location"] == "/", f"{target!r} → {response['Location']!r}"


@pytest.mark.parametrize("target", ["/datasets/", "/tokens/?x=1", "http://testserver/datasets/"])
def test_it_follows_next_within_the_site(target, client, owner, team):
    client.force_login(owner)
    response = client.post("/teams/switch/", {"team": team.pk, "next": target})
    assert response["Location"] == target


def test_it_keeps_the_404_pages_path_from_becoming_an_open_redirect(client, owner, team):
    """A 404 page for //evil.com/… renders the switcher with that path as its next."""
    client.force_login(owner)
    page = client.get("//evil.com/x")
    assert page.status_code == 404
    response = client.post("/teams/switch/", {"team": team.pk, "next": "//evil.com/x"})
    assert response["Location"] == "/"


@pytest.mark.parametrize("target", OFF_SITE)
@pytest.mark.parametrize("path", ["/login/", "/admin/login/"])
def test_it_never_sends_a_signed_in_user_elsewhere(path, target, client, owner):
    from django.contrib.auth import get_user_model

    get_user_model().objects.filter(pk=owner.pk).update(is_staff=True, is_superuser=True)
    response = client.post(
        f"{path}?next={target}",
        {"username": "alice", "password": "correct horse battery staple", "next": target},
    )
    assert response.status_code == 302
    assert response["Location"].startswith("/"), response["Location"]
    assert not response["Location"].startswith(("//", "/\\")), response["Location"]
