"""Walk every URL pattern and prove an outsider can reach no object of another team.

A route with an id in its path must answer 404 (or 405 for a method it does not have) to a
user from another team for every method — never 2xx, 400, 403, 409, 412 or 428, which would say
"this exists". A new route with a path parameter this test does not know fails here until the
parameter is added to OBJECT_IDS, so no route escapes the check.
"""

import pytest

from tests.security.routes import fill, routes_with_ids

METHODS = ["get", "post", "put", "patch", "delete"]
ALLOWED = {404, 405}

ROUTES = routes_with_ids()


@pytest.fixture
def object_ids(team, dataset, example, owner):
    from tests.security.world import build_objects

    return build_objects(team=team, dataset=dataset, example=example, owner=owner)


def test_it_found_the_object_routes():
    names = {r for r, _ in ROUTES}
    assert "api/v1/examples/<int:example_id>/" in names
    assert "datasets/<int:dataset_id>/" in names


@pytest.mark.parametrize("route,params", ROUTES, ids=[r for r, _ in ROUTES])
def test_it_hides_every_object_route_from_an_outsider(
    route, params, object_ids, outsider, api_for, client
):
    path = fill(route, object_ids)
    if path.startswith("/api/"):
        caller = api_for(outsider)
        kwargs = {"format": "json", "HTTP_IF_MATCH": '"1"'}
    else:
        client.force_login(outsider)
        caller = client
        kwargs = {}
    seen = {}
    for method in METHODS:
        body = {
            "name": "x",
            "messages": [{"role": "user", "content": "x"}],
            "user": "charlie",
            "action": "archive",
            "ids": [object_ids["example_id"]],
        }
        response = (
            getattr(caller, method)(path, body, **kwargs) if method != "get" else caller.get(path)
        )
        seen[method] = response.status_code
    assert set(seen.values()) <= ALLOWED, f"{path}: {seen}"
    assert 404 in seen.values(), f"{path}: {seen}"


@pytest.mark.parametrize(
    "route,params",
    [r for r in ROUTES if r[0].startswith("api/")],
    ids=[r for r, _ in ROUTES if r.startswith("api/")],
)
def test_it_answers_401_to_anonymous_callers(route, params, object_ids, client):
    path = fill(route, object_ids)
    assert client.get(path).status_code == 401


# The OpenAI-compatible routes name their object in the body ("model": "ftdb-model-<id>"), not
# the path, so the walk above cannot reach them: the same rule, checked here.
OPENAI_ROUTES = ["/v1/chat/completions"]


@pytest.mark.parametrize("path", OPENAI_ROUTES)
def test_it_hides_another_teams_model_on_the_openai_routes(path, object_ids, outsider, client):
    import json

    from finetunedb.teams.services import api_token_create

    token = api_token_create(user=outsider)[1]
    body = {
        "model": f"ftdb-model-{object_ids['model_id']}",
        "messages": [{"role": "user", "content": "x"}],
    }
    response = client.post(
        path,
        json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "model_not_found"
    listed = client.get("/v1/models", HTTP_AUTHORIZATION=f"Bearer {token}").json()["data"]
    assert body["model"] not in [m["id"] for m in listed]
