"""Checklist F54–F55: every page carries the policy headers; every file goes out as a download."""

import pytest

from tests.security.routes import all_routes, fill
from tests.security.test_roles import EXPECTED

pytestmark = pytest.mark.django_db

PAGES = sorted(
    name for name, methods in EXPECTED.items() if "get" in methods and not name.startswith("api:")
)
ROUTES = {name: route for route, name in all_routes()}


def assert_policy(response, where):
    policy = response.get("Content-Security-Policy", "")
    assert "frame-ancestors 'none'" in policy, where
    assert "object-src 'none'" in policy and "base-uri 'none'" in policy, where
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy.split("style")[0], where
    assert response["X-Content-Type-Options"] == "nosniff", where
    assert response["X-Frame-Options"] == "DENY", where


def test_it_sends_the_policy_headers_on_every_page(client, owner, objects):
    """F54: CSP with frame-ancestors 'none', nosniff and X-Frame-Options on every page."""
    client.force_login(owner)
    for name in PAGES:
        path = fill(ROUTES[name], objects)
        response = client.get(path)
        assert_policy(response, path)
    for path in ("/login/", "/signup/", "/api/v1/me/", "/api/v1/schema/", "/nowhere/"):
        assert_policy(client.get(path), path)


def test_it_sends_the_policy_headers_on_errors_and_refusals(client, outsider, objects):
    client.force_login(outsider)
    response = client.get(f"/datasets/{objects['dataset_id']}/")
    assert response.status_code == 404
    assert_policy(response, "404")


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/datasets/{dataset_id}/export/",
        "/api/v1/datasets/{dataset_id}/export/?format=sharegpt&gzip=1",
        "/api/v1/versions/{version_id}/export/",
        "/api/v1/versions/{version_id}/export/?format=parquet",
    ],
)
def test_it_serves_exports_as_attachments_never_html(path, owner, api_for, objects):
    """F55: exported files are attachments with a non-HTML type and nosniff."""
    response = api_for(owner).get(path.format(**objects))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert "html" not in response["Content-Type"]
    assert response["X-Content-Type-Options"] == "nosniff"
