import pytest

from evaluation.models import EvalSuite
from tests.evaluation.conftest import FORMAT_AND_NUMBER

pytestmark = pytest.mark.django_db


def body(team, version, **extra):
    return {
        "team": team.pk,
        "name": "gsm test",
        "version": version.pk,
        "evaluators": FORMAT_AND_NUMBER,
        **extra,
    }


def test_it_creates_a_suite_on_the_test_split(api_for, owner, team, gsm_version):
    response = api_for(owner).post("/api/v1/eval-suites/", body(team, gsm_version), format="json")
    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["split"] == "test" and data["item_count"] == 5
    assert data["version_hash"] == gsm_version.content_hash
    assert data["evaluators"][1] == {
        "type": "final_number",
        "params": {"tolerance": 1e-6, "relative": False, "name": ""},
    }
    listed = api_for(owner).get("/api/v1/eval-suites/").json()
    assert [s["id"] for s in listed["results"]] == [data["id"]]
    detail = api_for(owner).get(f"/api/v1/eval-suites/{data['id']}/").json()
    assert detail["name"] == "gsm test"


def test_it_takes_a_whole_version(api_for, owner, team, gsm_version):
    response = api_for(owner).post(
        "/api/v1/eval-suites/", body(team, gsm_version, split="all"), format="json"
    )
    assert response.json()["item_count"] == 11


@pytest.mark.parametrize(
    ("change", "path", "words"),
    [
        ({"evaluators": [{"type": "bleu"}]}, "evaluators[0].type", "unknown evaluator type"),
        (
            {"evaluators": [{"type": "regex", "params": {"pattern": "(a)\\1"}}]},
            "evaluators[0].params.pattern",
            "RE2",
        ),
        (
            {"evaluators": [{"type": "json_schema", "params": {"schema": {"$ref": "http://x/"}}}]},
            "evaluators[0].params.schema.$ref",
            "inside this schema",
        ),
        (
            {"evaluators": [{"type": "llm_judge", "params": {"rubric": "ok?", "judge": "gpt"}}]},
            "evaluators[0].params.judge",
            "unknown judge 'gpt'",
        ),
        ({"evaluators": "exact_match"}, "evaluators", "list"),
        ({"split": "validation"}, "split", "has no validation examples"),
        ({"split": "holdout"}, "split", ""),
        ({"name": ""}, "name", ""),
    ],
)
def test_it_refuses_bad_input_naming_the_field(
    api_for, owner, team, gsm_version, change, path, words
):
    response = api_for(owner).post(
        "/api/v1/eval-suites/", body(team, gsm_version, **change), format="json"
    )
    assert response.status_code == 400, response.json()
    errors = response.json()["errors"]
    assert any(e["path"] == path and words in e["message"] for e in errors), errors
    assert not EvalSuite.objects.exists()


def test_it_refuses_a_second_suite_of_the_same_name(api_for, owner, team, gsm_version):
    client = api_for(owner)
    assert (
        client.post("/api/v1/eval-suites/", body(team, gsm_version), format="json").status_code
        == 201
    )
    again = client.post("/api/v1/eval-suites/", body(team, gsm_version), format="json")
    assert again.status_code == 409
    assert again.json()["errors"][0]["path"] == "name"
    assert EvalSuite.objects.count() == 1


def test_it_hides_other_teams(api_for, owner, outsider, team, other_team, gsm_version, suite):
    theirs = api_for(outsider)
    assert theirs.get(f"/api/v1/eval-suites/{suite.pk}/").status_code == 404
    assert theirs.get("/api/v1/eval-suites/").json()["results"] == []
    # A suite of one's own team on another team's version, and a suite for another team.
    own_team_of_outsider = other_team
    response = theirs.post(
        "/api/v1/eval-suites/", body(own_team_of_outsider, gsm_version), format="json"
    )
    assert response.status_code == 404
    response = theirs.post("/api/v1/eval-suites/", body(team, gsm_version), format="json")
    assert response.status_code == 404
    assert EvalSuite.objects.count() == 1


def test_it_refuses_a_suite_on_another_of_the_callers_teams_versions(
    api_for, owner, other_team, gsm_version
):
    from finetunedb.teams.models import Membership

    Membership.objects.create(team=other_team, user=owner, role="owner")
    response = api_for(owner).post(
        "/api/v1/eval-suites/", body(other_team, gsm_version), format="json"
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["path"] == "version"


def test_it_lets_only_trainers_create_suites(api_for, teammate, team, gsm_version):
    response = api_for(teammate).post(
        "/api/v1/eval-suites/", body(team, gsm_version), format="json"
    )
    assert response.status_code == 403
    assert not EvalSuite.objects.exists()
