"""Checklist A (BOLA, API1): ids of another team's objects never work, wherever they are sent.

The outsider walk over every route with an id in its path is tests/test_url_scoping.py; this
module covers ids inside bodies and query strings, list filters, leaving a team and the
"no existence oracle" rule.
"""

import pytest

from datasets_app.models import Dataset, DuplicateCluster, Example
from tests.security.conftest import snapshot

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice(owner, api_for):
    return api_for(owner)


def test_it_answers_another_teams_object_like_a_missing_one(alice, objects, theirs):
    """A1: the 404 for team B's dataset, version, model, import error report and export is
    byte-identical to the one for an id that does not exist."""
    missing = 10**9
    for route in (
        "datasets/{}/",
        "versions/{}/export/",
        "models/{}/download/",
        "imports/{}/errors/",
        "examples/{}/",
    ):
        key = {"d": "dataset_id", "v": "version_id", "m": "model_id", "i": "import_id"}.get(
            route[0], "example_id"
        )
        foreign = alice.get("/api/v1/" + route.format(theirs[key]))
        absent = alice.get("/api/v1/" + route.format(missing))
        assert foreign.status_code == absent.status_code == 404, route
        assert foreign.content == absent.content, route


def test_it_refuses_to_create_a_dataset_in_another_team(alice, other_team):
    """A4: a team id of another team in the body."""
    before = Dataset.objects.filter(team=other_team).count()
    response = alice.post("/api/v1/datasets/", {"team": other_team.pk, "name": "x"}, format="json")
    assert response.status_code in (400, 404)
    assert Dataset.objects.filter(team=other_team).count() == before


def test_it_refuses_another_teams_version_as_a_diff_base(alice, client, owner, objects, theirs):
    """A4: ``?against=`` naming team B's version, through the API and the page."""
    path = f"/api/v1/versions/{objects['version_id']}/diff/?against={theirs['version_id']}"
    assert alice.get(path).status_code == 404
    client.force_login(owner)
    page = client.get(f"/versions/{objects['version_id']}/diff/?against={theirs['version_id']}")
    assert page.status_code == 404


def test_it_refuses_another_teams_dataset_as_contamination_target(
    alice, client, owner, objects, theirs
):
    """A4: contamination ``against`` another team's dataset (API and page)."""
    response = alice.post(
        f"/api/v1/datasets/{objects['dataset_id']}/contamination/",
        {"against": theirs["dataset_id"]},
        format="json",
    )
    assert response.status_code == 404
    client.force_login(owner)
    page = client.get(
        f"/datasets/{objects['dataset_id']}/contamination/?against={theirs['dataset_id']}"
    )
    assert page.status_code == 404
    assert b"their-data" not in page.content


def test_it_refuses_another_teams_model_to_compare_with(alice, objects, theirs):
    path = f"/api/v1/models/{objects['model_id']}/compare/?against={theirs['model_id']}"
    assert alice.get(path).status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        {"action": "keep", "cluster": "THEIR_CLUSTER", "keep": "THEIR_EXAMPLE"},
        {"action": "keep", "cluster": "OUR_CLUSTER", "keep": "THEIR_EXAMPLE"},
        {"action": "keep_best", "clusters": ["OUR_CLUSTER", "THEIR_CLUSTER"]},
        {"action": "not_duplicates", "cluster": "THEIR_CLUSTER"},
    ],
    ids=["their-cluster", "their-keep", "mixed-clusters", "their-not-duplicates"],
)
def test_it_resolves_no_cluster_of_another_team(alice, objects, theirs, body):
    """A6: cluster and example ids of team B in a resolve request → 4xx and nothing changes."""
    names = {
        "THEIR_CLUSTER": theirs["cluster_id"],
        "OUR_CLUSTER": objects["cluster_id"],
        "THEIR_EXAMPLE": theirs["example_id"],
    }

    def sub(value):
        return [sub(v) for v in value] if isinstance(value, list) else names.get(value, value)

    body = {k: sub(v) for k, v in body.items()}
    before = snapshot(DuplicateCluster), snapshot(Example)
    response = alice.post(
        f"/api/v1/datasets/{objects['dataset_id']}/duplicate-clusters/resolve/", body, format="json"
    )
    assert 400 <= response.status_code < 500, response.content
    assert (snapshot(DuplicateCluster), snapshot(Example)) == before


@pytest.mark.parametrize(
    "route,body",
    [
        ("examples/bulk/", {"action": "archive"}),
        ("examples/bulk/", {"action": "add_tags", "value": ["x"]}),
        ("fixes/apply/", {"fix_ids": ["strip_whitespace"]}),
        ("fixes/preview/", {"fix_ids": ["strip_whitespace"]}),
    ],
)
def test_it_applies_no_bulk_action_to_mixed_ids(alice, objects, theirs, route, body):
    """A6: our example id and theirs in one bulk request → 4xx, and neither side changes."""
    before = snapshot(Example)
    response = alice.post(
        f"/api/v1/datasets/{objects['dataset_id']}/{route}",
        {**body, "ids": [objects["example_id"], theirs["example_id"]]},
        format="json",
    )
    assert 400 <= response.status_code < 500, response.content
    assert snapshot(Example) == before


def test_it_filters_lists_by_team_only_within_the_callers_teams(alice, objects, theirs):
    """A5: ``?team=<B>`` gives an empty list, not B's datasets."""
    response = alice.get(f"/api/v1/datasets/?team={theirs['team_id']}")
    assert response.status_code == 200
    assert response.json()["results"] == []
    own = alice.get("/api/v1/datasets/").json()["results"]
    assert [d["id"] for d in own] == [objects["dataset_id"]]


@pytest.mark.parametrize(
    "query", ["cluster={cluster}", "author={author}", "tag=x", "search=their", "ordering=-id"]
)
def test_it_never_lists_another_teams_examples_whatever_the_filter(
    alice, objects, theirs, outsider, query
):
    """A5: the example list of our dataset, filtered with B's ids, holds only our examples."""
    query = query.format(cluster=theirs["cluster_id"], author=outsider.pk)
    response = alice.get(f"/api/v1/datasets/{objects['dataset_id']}/examples/?{query}")
    assert response.status_code == 200
    ids = {e["id"] for e in response.json()["results"]}
    assert theirs["example_id"] not in ids


def test_it_shuts_a_removed_member_out_at_the_next_request(
    owner, teammate, team, objects, api_for, client
):
    """A8: after removal, the member's token and session both get 404 on the team's objects."""
    bob_api = api_for(teammate)
    client.force_login(teammate)
    dataset_path = f"/api/v1/datasets/{objects['dataset_id']}/"
    assert bob_api.get(dataset_path).status_code == 200
    assert client.get(f"/datasets/{objects['dataset_id']}/").status_code == 200

    removed = api_for(owner).delete(
        f"/api/v1/teams/{team.pk}/members/", {"user": teammate.username}, format="json"
    )
    assert removed.status_code == 204

    assert bob_api.get(dataset_path).status_code == 404
    assert bob_api.get(f"/api/v1/examples/{objects['example_id']}/").status_code == 404
    assert client.get(f"/datasets/{objects['dataset_id']}/").status_code == 404
    edit = client.post(f"/examples/{objects['example_id']}/edit/", {"notes": "still here?"})
    assert edit.status_code == 404
