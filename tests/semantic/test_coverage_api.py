"""The coverage plan through its API: targets (create, change, delete, refusals naming the field),
the plan's status with its gaps, a gap turned into a review queue, and the freeze gate."""

from __future__ import annotations

import pytest

from annotation.models import Assignment
from datasets_app.models import DatasetVersion
from semantic.models import CoverageTarget

pytestmark = pytest.mark.django_db


def chat(i: int) -> list[dict]:
    return [{"role": "user", "content": f"question {i}"}, {"role": "assistant", "content": "ok"}]


@pytest.fixture
def planned(dataset, owner, make_example):
    """20 examples: 2 tagged refunds, 8 tagged refusal, 5 with metadata lang=de; one archived."""
    for i in range(20):
        tags = ["refunds"] if i < 2 else ["refusal"] if i < 10 else []
        metadata = {"lang": "de"} if 10 <= i < 15 else {"lang": "en"}
        make_example(dataset, owner, messages=chat(i), tags=tags, metadata=metadata)
    make_example(dataset, owner, messages=chat(99), tags=["refunds"], status="archived")
    return dataset


def add(api, dataset, **body):
    return api.post(f"/api/v1/datasets/{dataset.pk}/coverage-targets/", body, format="json")


def test_it_shows_actual_against_target_with_the_gap(planned, api_for, owner):
    api = api_for(owner)
    assert (
        add(api, planned, kind="tag", value="refunds", mode="about", share="20").status_code == 201
    )
    assert add(api, planned, kind="tag", value="refusal", mode="max", share="5").status_code == 201
    r = add(api, planned, kind="metadata", key="lang", value="de", mode="min", share="25")
    assert r.status_code == 201 and r["Location"].startswith("/api/v1/coverage-targets/")
    body = api.get(f"/api/v1/datasets/{planned.pk}/coverage/").json()
    assert body["total"] == 20 and body["gate"] == "off" and body["unmet"] == 2
    by = {t["value"]: t for t in body["targets"]}
    # (2 + x) / (20 + x) >= 0.2  ->  x = 3 ; (8 - y) / (20 - y) <= 0.05 -> y = 8
    assert (by["refunds"]["count"], by["refunds"]["actual_share"]) == (2, 10.0)
    assert (by["refunds"]["state"], by["refunds"]["add"]) == ("under", 3)
    assert (by["refusal"]["state"], by["refusal"]["remove"]) == ("over", 8)
    assert (by["de"]["state"], by["de"]["actual_share"]) == ("met", 25.0)


def test_it_scopes_a_target_to_one_split(planned, api_for, owner):
    api = api_for(owner)
    body = add(
        api, planned, kind="tag", value="refunds", mode="min", share="50", split="test"
    ).json()
    assert (body["total"], body["count"], body["add"]) == (0, 0, 1)


@pytest.mark.parametrize(
    "body,field",
    [
        ({"kind": "colour", "value": "x", "mode": "min", "share": "5"}, "kind"),
        ({"kind": "metadata", "value": "x", "mode": "min", "share": "5"}, "key"),
        ({"kind": "metadata", "key": "bad key", "value": "x", "mode": "min", "share": "5"}, "key"),
        ({"kind": "tag", "value": "x", "mode": "min", "share": "101"}, "share"),
        ({"kind": "tag", "value": "x", "mode": "min", "share": "5.123"}, "share"),
        ({"kind": "tag", "value": "x", "mode": "sometimes", "share": "5"}, "mode"),
        ({"kind": "tag", "value": "x", "mode": "min", "share": "5", "tolerance": "2"}, "tolerance"),
        ({"kind": "tag", "value": "x", "mode": "min", "share": "5", "split": "dev"}, "split"),
        ({"kind": "topic", "value": "x", "mode": "min", "share": "5"}, "value"),
    ],
)
def test_it_refuses_a_bad_target_naming_its_field(planned, api_for, owner, body, field):
    r = add(api_for(owner), planned, **body)
    assert r.status_code == 400, r.json()
    assert [e["path"] for e in r.json()["errors"]] == [field]
    assert not CoverageTarget.objects.exists()


def test_it_refuses_disjoint_targets_summing_past_100_percent(planned, api_for, owner):
    api = api_for(owner)
    assert (
        add(
            api, planned, kind="metadata", key="lang", value="de", mode="min", share="60"
        ).status_code
        == 201
    )
    r = add(
        api,
        planned,
        kind="metadata",
        key="lang",
        value="en",
        mode="about",
        share="45",
        tolerance="2",
    )
    assert r.status_code == 400
    assert r.json()["errors"][0]["path"] == "share" and "103%" in r.json()["errors"][0]["message"]
    assert CoverageTarget.objects.count() == 1
    # the same bucket twice in one scope
    r = add(api, planned, kind="metadata", key="lang", value="de", mode="max", share="10")
    assert r.status_code == 400 and r.json()["errors"][0]["path"] == "value"


def test_it_changes_and_deletes_a_target(planned, api_for, owner):
    api = api_for(owner)
    url = add(api, planned, kind="tag", value="refunds", mode="about", share="20")["Location"]
    r = api.patch(url, {"share": "10", "tolerance": "1"}, format="json")
    assert r.status_code == 200 and r.json()["state"] == "met" and r.json()["share"] == 10.0
    assert api.patch(url, {"share": "-1"}, format="json").status_code == 400
    assert CoverageTarget.objects.get().share == 10
    assert api.delete(url).status_code == 204
    assert api.get(url).status_code == 404


def test_it_lets_viewers_read_and_only_curators_write(planned, api_for, owner, teammate, outsider):
    url = add(api_for(owner), planned, kind="tag", value="refunds", mode="min", share="20")[
        "Location"
    ]
    annotator = api_for(teammate)
    assert annotator.get(f"/api/v1/datasets/{planned.pk}/coverage/").status_code == 200
    assert add(annotator, planned, kind="tag", value="x", mode="min", share="1").status_code == 403
    assert annotator.delete(url).status_code == 403
    stranger = api_for(outsider)
    assert stranger.get(url).status_code == 404
    assert stranger.get(f"/api/v1/datasets/{planned.pk}/coverage/").status_code == 404
    assert CoverageTarget.objects.count() == 1


def test_it_turns_an_over_target_bucket_into_a_review_queue(planned, api_for, owner, teammate):
    api = api_for(owner)
    over = add(api, planned, kind="tag", value="refusal", mode="max", share="5").json()
    r = api.post(
        f"/api/v1/coverage-targets/{over['id']}/queue/",
        {"annotators": [teammate.pk]},
        format="json",
    )
    assert r.status_code == 201, r.json()
    assignment = Assignment.objects.get(pk=r.json()["assignment"])
    assert assignment.items.count() == 8 and "deprioritizing 8" in assignment.guidelines
    assert set(assignment.items.values_list("annotator_id", flat=True)) == {teammate.pk}


def test_it_points_an_under_target_bucket_at_its_authoring_queue(planned, api_for, owner):
    api = api_for(owner)
    under = add(api, planned, kind="tag", value="refunds", mode="min", share="50").json()
    r = api.post(f"/api/v1/coverage-targets/{under['id']}/queue/", {}, format="json")
    assert r.status_code == 409 and r.json()["code"] == "under_target"
    assert r.json()["authoring_url"] == f"/coverage-targets/{under['id']}/write/"
    assert not Assignment.objects.exists()


def freeze(api, dataset):
    return api.post(f"/api/v1/datasets/{dataset.pk}/versions/", {"name": "v"}, format="json")


def test_it_blocks_a_freeze_naming_the_unmet_targets(planned, api_for, owner):
    api = api_for(owner)
    add(api, planned, kind="tag", value="refunds", mode="about", share="20")
    add(api, planned, kind="metadata", key="lang", value="de", mode="min", share="25")
    settings = {"settings": {"coverage_gate": "block"}}
    assert api.patch(f"/api/v1/datasets/{planned.pk}/", settings, format="json").status_code == 200
    r = freeze(api, planned)
    assert r.status_code == 409, r.json()
    assert "tag 'refunds': 20%" in r.json()["detail"] and "add 3" in r.json()["detail"]
    assert "lang" not in r.json()["detail"]  # met
    assert not DatasetVersion.objects.exists()
    forced = api.post(
        f"/api/v1/datasets/{planned.pk}/versions/", {"force": True, "reason": "ok"}, format="json"
    )
    assert forced.status_code == 201
    assert DatasetVersion.objects.get().check_report["forced_past"][0]["rule_id"] == "coverage_plan"


def test_it_records_a_warning_on_the_version(planned, api_for, owner):
    api = api_for(owner)
    add(api, planned, kind="tag", value="refusal", mode="max", share="5")
    api.patch(
        f"/api/v1/datasets/{planned.pk}/", {"settings": {"coverage_gate": "warn"}}, format="json"
    )
    assert freeze(api, planned).status_code == 201
    (warning,) = DatasetVersion.objects.get().check_report["warnings"]
    assert warning["rule_id"] == "coverage_plan" and "remove 8" in warning["message"]


def test_it_freezes_as_before_with_the_gate_off_or_the_plan_met(planned, api_for, owner):
    api = api_for(owner)
    add(api, planned, kind="tag", value="refusal", mode="max", share="5")
    assert freeze(api, planned).status_code == 201  # off by default
    api.patch(
        f"/api/v1/datasets/{planned.pk}/", {"settings": {"coverage_gate": "block"}}, format="json"
    )
    CoverageTarget.objects.update(share=50)
    assert freeze(api, planned).status_code == 201
    assert "warnings" not in DatasetVersion.objects.order_by("-number").first().check_report


def test_it_refuses_an_unknown_gate_setting(planned, api_for, owner):
    r = api_for(owner).patch(
        f"/api/v1/datasets/{planned.pk}/", {"settings": {"coverage_gate": "maybe"}}, format="json"
    )
    assert r.status_code == 400 and r.json()["errors"][0]["path"] == "settings.coverage_gate"


@pytest.fixture
def topical(embedding_settings, dataset, owner, make_example):
    """18 embedded examples in 3 topics of 6 (tests/semantic/test_topics.py's planted blobs)."""
    from tests.semantic.test_duplicates import plant
    from tests.semantic.test_topics import blobs

    vectors, texts, _ = blobs(6)
    rows = [
        make_example(
            dataset,
            owner,
            messages=[{"role": "user", "content": t}, {"role": "assistant", "content": "ok"}],
        )
        for t in texts
    ]
    plant(dataset, rows, vectors)
    return dataset


def test_it_plans_topic_clusters_with_their_labels(topical, api_for, owner):
    api = api_for(owner)
    topics = api.get(f"/api/v1/datasets/{topical.pk}/topics/").json()["topics"]
    first = topics[0]
    body = add(api, topical, kind="topic", value=str(first["topic"]), mode="min", share="50").json()
    assert body["label"] == first["label"] == body["current_label"]
    # 6 of 18: (6 + x) / (18 + x) >= 1/2 -> x = 6
    assert (body["count"], body["add"], body["state"]) == (6, 6, "under")
    assert body["describe"].startswith(f"topic {first['topic']} “{first['label']}”")
    missing = add(api, topical, kind="topic", value="7", mode="min", share="5")
    assert missing.status_code == 400 and "3 topics" in missing.json()["errors"][0]["message"]
    second = add(api, topical, kind="topic", value=str(topics[1]["topic"]), mode="min", share="51")
    assert second.status_code == 400 and "101%" in second.json()["errors"][0]["message"]


def test_it_says_topic_targets_wait_for_embeddings(planned, api_for, owner):
    api = api_for(owner)
    body = add(api, planned, kind="topic", value="0", mode="min", share="10").json()
    assert body["state"] == "unavailable" and "embed" in body["note"].lower()
    api.patch(
        f"/api/v1/datasets/{planned.pk}/", {"settings": {"coverage_gate": "block"}}, format="json"
    )
    r = freeze(api, planned)
    assert r.status_code == 409 and "topics not available" in r.json()["detail"]
