from pathlib import Path

import orjson
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from datasets_app.checks import ExampleInput, build_report
from datasets_app.models import Example
from datasets_app.services.checks.engine import check_settings_for, encoding_for
from datasets_app.services.imports import import_job_create

FIXTURE = Path(__file__).parent.parent.parent / "fixtures" / "checks" / "small.jsonl"


@pytest.fixture
def imported(dataset, owner, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        import_job_create(
            user=owner, dataset=dataset, upload=SimpleUploadedFile("s.jsonl", FIXTURE.read_bytes())
        )
    return dataset


def _pure_report(dataset):
    """The engine run by hand over the same stored rows the service reads."""
    settings = check_settings_for(dataset)
    rows = Example.objects.filter(dataset=dataset).select_related("current_revision")
    inputs = [
        ExampleInput(
            e.pk, {"messages": e.current_revision.messages}, e.source_format, e.content_hash
        )
        for e in rows
    ]
    return build_report(inputs, settings, encoding=encoding_for(settings.encoding))


def test_it_reports_the_same_numbers_as_the_engine(imported, owner, api_for):
    body = api_for(owner).get(f"/api/v1/datasets/{imported.pk}/report/").json()
    pure = _pure_report(imported)
    assert {r["id"]: r["count"] for r in body["rules"]} == pure.counts_by_rule()
    stats = pure.token_stats
    assert body["token_stats"]["n_examples"] == stats.n_examples == 14
    assert body["token_stats"]["total_tokens"] == stats.total_tokens.as_dict()
    assert body["token_stats"]["assistant_tokens"] == stats.assistant_tokens.as_dict()
    assert body["token_stats"]["n_messages"] == stats.messages.as_dict()
    assert body["token_stats"]["billable_tokens"] == stats.billable_tokens
    assert body["token_stats"]["n_over_limit"] == stats.n_over_limit
    assert body["token_stats"]["default_epochs"] == stats.epochs
    assert [f["message"] for f in body["dataset_findings"]] == [
        f.message for f in pure.dataset_findings
    ]
    assert body["stale"] is False and body["computed_at"]


def test_it_explains_each_rule_and_links_to_its_examples(imported, owner, api_for):
    body = api_for(owner).get(f"/api/v1/datasets/{imported.pk}/report/").json()
    rule = next(r for r in body["rules"] if r["id"] == "exact_duplicates")
    assert rule["severity"] == "warning" and rule["title"] and rule["why"] and rule["fix_hint"]
    assert len(rule["example_ids"]) == 2
    listed = api_for(owner).get(rule["examples_url"]).json()
    assert sorted(e["id"] for e in listed["results"]) == sorted(rule["example_ids"])


def test_it_estimates_the_cost_for_a_price(imported, owner, api_for):
    client = api_for(owner)
    stats = _pure_report(imported).token_stats
    body = client.get(f"/api/v1/datasets/{imported.pk}/report/?price_per_million=8").json()
    assert body["cost"]["estimated_cost"] == pytest.approx(stats.cost(8))
    assert body["cost"]["epochs"] == stats.epochs
    body = client.get(f"/api/v1/datasets/{imported.pk}/report/?price_per_million=8&epochs=2").json()
    assert body["cost"]["estimated_cost"] == pytest.approx(stats.billable_tokens * 2 * 8 / 1e6)
    assert client.get(f"/api/v1/datasets/{imported.pk}/report/").json()["cost"] is None


@pytest.mark.parametrize("query", ["price_per_million=-1", "price_per_million=abc", "epochs=0"])
def test_it_rejects_bad_cost_parameters(imported, owner, api_for, query):
    response = api_for(owner).get(
        f"/api/v1/datasets/{imported.pk}/report/?price_per_million=1&{query}"
    )
    assert response.status_code == 400


def test_it_filters_the_example_list_by_rule_and_severity(imported, owner, api_for):
    client = api_for(owner)
    url = f"/api/v1/datasets/{imported.pk}/examples/"
    flagged = client.get(url + "?rule=unfilled_placeholder").json()["results"]
    assert len(flagged) == 1
    assert "{{name}}" in flagged[0]["messages"][1]["content"]
    assert client.get(url + "?rule=answer_ending_drift").json()["count"] == 2
    assert client.get(url + "?rule=no_such_rule").json()["count"] == 0
    warnings = client.get(url + "?severity=warning").json()["count"]
    assert warnings == 5  # 2 drift + 2 duplicates + 1 placeholder/whitespace example


def test_it_shows_each_examples_findings_in_the_example_output(imported, owner, api_for):
    example = Example.objects.get(
        dataset=imported, current_revision__messages__icontains="{{name}}"
    )
    body = api_for(owner).get(f"/api/v1/examples/{example.pk}/").json()
    found = {(c["rule_id"], c["path"]) for c in body["checks"]}
    assert ("unfilled_placeholder", "messages[1].content") in found
    assert ("surrounding_whitespace", "messages[1].content") in found
    assert all(c["severity"] in ("error", "warning", "info") for c in body["checks"])


def test_it_lets_a_viewer_read_the_report(imported, api_for, make_user):
    from finetunedb.teams.models import Membership

    viewer = make_user("dana")
    Membership.objects.create(team=imported.team, user=viewer, role="viewer")
    assert api_for(viewer).get(f"/api/v1/datasets/{imported.pk}/report/").status_code == 200


def test_it_reports_an_unchecked_dataset_as_stale(dataset, owner, api_for):
    body = api_for(owner).get(f"/api/v1/datasets/{dataset.pk}/report/").content
    body = orjson.loads(body)
    assert body["stale"] is True and body["token_stats"] is None and body["rules"] == []
