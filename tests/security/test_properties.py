"""Checklist B (API3, BOPLA): read-only properties stay read-only; nothing private leaves.

Every API response of the whole test run is also scanned by tests/security/leakscan.py; the
tests here prove that scanner finds what it looks for, and send the privileged fields by hand.
"""

import re
from pathlib import Path

import pytest

from datasets_app.models import Dataset, DatasetVersion, Example
from tests.security.conftest import snapshot
from tests.security.leakscan import findings

ROOT = Path(__file__).resolve().parents[2]
CODE_DIRS = ("finetunedb", "datasets_app", "training")


def python_sources():
    for folder in CODE_DIRS:
        for path in (ROOT / folder).rglob("*.py"):
            if "migrations" not in path.parts:
                yield path


@pytest.fixture
def alice(owner, api_for):
    return api_for(owner)


@pytest.mark.django_db
def test_it_keeps_a_datasets_team_and_author_read_only(alice, dataset, other_team, outsider):
    """B11: team, created_by, id and timestamps sent in a PATCH change nothing."""
    before = snapshot(Dataset, pk=dataset.pk)
    response = alice.patch(
        f"/api/v1/datasets/{dataset.pk}/",
        {
            "team": other_team.pk,
            "created_by": outsider.pk,
            "id": dataset.pk + 100,
            "created_at": "2000-01-01T00:00:00Z",
        },
        format="json",
    )
    assert response.status_code in (200, 400)
    after = snapshot(Dataset, pk=dataset.pk)
    assert {k: v for k, v in after[0].items() if k != "updated_at"} == {
        k: v for k, v in before[0].items() if k != "updated_at"
    }


@pytest.mark.django_db
@pytest.mark.parametrize(
    "field,value",
    [
        ("content_hash", "0" * 64),
        ("frozen", False),
        ("dataset", 999),
        ("counts", {}),
        ("number", 7),
        ("created_by", 1),
    ],
)
def test_it_refuses_to_change_a_frozen_versions_content(
    alice, owner, dataset, example, field, value
):
    """B12: a version's hash, counts, dataset and author cannot be patched."""
    from datasets_app.services.versions import dataset_version_freeze

    version = dataset_version_freeze(user=owner, dataset=dataset, name="v1")
    before = snapshot(DatasetVersion, pk=version.pk)
    response = alice.patch(f"/api/v1/versions/{version.pk}/", {field: value}, format="json")
    assert response.status_code == 400
    assert snapshot(DatasetVersion, pk=version.pk) == before


@pytest.mark.django_db
def test_it_ignores_privileged_fields_on_an_example(
    alice, dataset, example, other_dataset, outsider
):
    """B13: created_by, revision, dataset, hashes and id in an example PATCH or POST."""
    etag = alice.get(f"/api/v1/examples/{example.pk}/")["ETag"]
    privileged = {
        "created_by": outsider.pk,
        "revision": 999,
        "dataset": other_dataset.pk,
        "content_hash": "0" * 64,
        "id": example.pk + 1000,
        "current_revision": 1,
    }
    response = alice.patch(
        f"/api/v1/examples/{example.pk}/",
        {"notes": "edited", **privileged},
        format="json",
        HTTP_IF_MATCH=etag,
    )
    assert response.status_code in (200, 400)
    example.refresh_from_db()
    assert example.dataset_id == dataset.pk
    assert example.created_by_id != outsider.pk
    assert example.revision < 999
    assert not Example.objects.filter(dataset=other_dataset).exists()

    created = alice.post(
        f"/api/v1/datasets/{dataset.pk}/examples/",
        {"messages": [{"role": "user", "content": "hi"}], **privileged},
        format="json",
    )
    assert created.status_code in (201, 400)
    assert not Example.objects.filter(dataset=other_dataset).exists()
    assert not Example.objects.filter(created_by=outsider).exists()


@pytest.mark.django_db
def test_it_grants_no_privilege_through_the_profile(alice, owner):
    """B14: there is no writable profile route; /me/ refuses writes and the flags stay off."""
    for method in ("post", "put", "patch"):
        response = getattr(alice, method)(
            "/api/v1/me/", {"is_staff": True, "is_superuser": True}, format="json"
        )
        assert response.status_code == 405
    owner.refresh_from_db()
    assert not owner.is_staff and not owner.is_superuser


@pytest.mark.django_db
def test_it_shows_members_without_emails(alice, team, owner, teammate):
    """B16: the member list names users, never their email addresses."""
    response = alice.get(f"/api/v1/teams/{team.pk}/members/")
    assert response.status_code == 200
    assert owner.email not in response.content.decode()
    assert teammate.email not in response.content.decode()


def test_it_has_no_serializer_or_form_with_all_fields():
    """B17: no serializer or form lists every field implicitly (the "__all__" shortcut, or exclude)."""
    pattern = re.compile(r"""^\s*(fields\s*=\s*["']__all__["']|exclude\s*=)""", re.MULTILINE)
    offenders = [
        str(path.relative_to(ROOT))
        for path in python_sources()
        if "admin.py" != path.name and pattern.search(path.read_text())
    ]
    assert offenders == []


@pytest.mark.parametrize(
    "payload,what",
    [
        ({"user": {"password": "x"}}, "a private field"),
        ({"note": "md5$abc$0123"}, "a password hash"),
        ({"t": "ftdb_" + "A" * 40}, "an API token"),
        (['Traceback (most recent call last):\n  File "/x.py", line 3'], "a traceback"),
        ({"rows": [{"stored_name": "abc"}]}, "a private field"),
        ({"email": "a@example.com"}, "a private field"),
    ],
)
def test_it_recognises_each_kind_of_leak(payload, what):
    """The scanner behind B16 finds each kind of leak it promises to find."""
    assert what in [f[0] for f in findings(payload)]


def test_it_recognises_storage_paths(settings):
    leaked = {"path": str(settings.DATA_DIR / "uploads" / "x")}
    assert [f[0] for f in findings(leaked)] == ["a storage path"]
    assert findings({"path": "runs/3/model", "content": "hello"}) == []


def test_it_scans_every_api_response_of_the_test_run(settings):
    assert "tests.security.leakscan.ResponseLeakMiddleware" in settings.MIDDLEWARE


@pytest.mark.django_db
def test_it_fails_the_request_that_leaks(client, monkeypatch):
    """The middleware raises inside the request, so the test that made the call fails."""
    from finetunedb.teams.api import teams as api

    monkeypatch.setattr(
        api.MeApi, "get", lambda self, request: api.Response({"password": "pbkdf2_sha256$x"})
    )
    from django.contrib.auth import get_user_model

    from finetunedb.teams.services import api_token_create

    user = get_user_model().objects.create_user("dora", password="pw-123456789")
    _, raw = api_token_create(user=user, name="t")
    with pytest.raises(AssertionError, match="leaks"):
        client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {raw}")
