"""The Coverage tab: the plan's table with its gaps, adding and removing targets, the freeze gate
setting, the review queue button and the authoring queue (the prefilled new-example form)."""

from __future__ import annotations

import pytest

from annotation.models import Assignment
from datasets_app.models import Example
from semantic.models import CoverageTarget
from semantic.services.coverage import coverage_target_create
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db


def chat(i: int) -> list[dict]:
    return [{"role": "user", "content": f"question {i}"}, {"role": "assistant", "content": "ok"}]


@pytest.fixture
def planned(dataset, owner, make_example):
    for i in range(10):
        tags = ["refunds"] if i < 1 else ["refusal"] if i < 6 else []
        make_example(dataset, owner, messages=chat(i), tags=tags, metadata={"lang": "en"})
    return dataset


def target(dataset, owner, **values):
    return coverage_target_create(user=owner, dataset=dataset, **values)


def test_it_shows_each_target_with_its_gap(planned, owner, client):
    target(planned, owner, kind="tag", value="refunds", mode="about", share="20")
    target(planned, owner, kind="tag", value="refusal", mode="max", share="5")
    target(planned, owner, kind="metadata", key="lang", value="en", mode="min", share="90")
    client.force_login(owner)
    page = client.get(f"/datasets/{planned.pk}/coverage/").content.decode()
    assert "under: add 2" in page  # (1 + 2) / 12 = 25% >= 20%, (1 + 1) / 11 < 20%
    assert "over: remove or deprioritize 5" in page
    assert "metadata lang = &#x27;en&#x27;: ≥ 90%" in page and ">met<" in page
    assert "2 targets not met." in page and 'aria-current="page">Coverage' in page


def test_it_adds_a_target_from_the_form_and_names_a_bad_field(planned, owner, client):
    client.force_login(owner)
    r = client.post(
        f"/datasets/{planned.pk}/coverage/",
        {"kind": "tag", "value": "refunds", "mode": "min", "share": "20", "tolerance": "0"},
    )
    assert r.status_code == 302 and CoverageTarget.objects.count() == 1
    r = client.post(
        f"/datasets/{planned.pk}/coverage/",
        {"kind": "tag", "value": "x", "mode": "min", "share": "120", "tolerance": "0"},
    )
    assert r.status_code == 400 and "share: must be a number from 0 to 100" in r.content.decode()
    assert CoverageTarget.objects.count() == 1


def test_it_shows_viewers_the_plan_without_its_controls(planned, owner, make_user, client):
    target(planned, owner, kind="tag", value="refusal", mode="max", share="5")
    viewer = make_user("vic")
    MembershipFactory(team=planned.team, user=viewer, role="viewer")
    client.force_login(viewer)
    page = client.get(f"/datasets/{planned.pk}/coverage/").content.decode()
    assert "over: remove" in page
    assert "Add a target" not in page and "Create review queue" not in page
    assert client.post(f"/datasets/{planned.pk}/coverage/", {}).status_code == 403


def test_it_creates_a_review_queue_in_one_click(planned, owner, client):
    over = target(planned, owner, kind="tag", value="refusal", mode="max", share="5")
    client.force_login(owner)
    r = client.post(f"/coverage-targets/{over.pk}/queue/")
    assignment = Assignment.objects.get()
    assert r.status_code == 302 and r["Location"] == f"/assignments/{assignment.pk}/"
    assert assignment.items.count() == 5


def test_it_writes_examples_into_an_under_target_bucket(planned, owner, client):
    under = target(
        planned, owner, kind="metadata", key="intent", value="refund", mode="min", share="20"
    )
    client.force_login(owner)
    page = client.get(f"/coverage-targets/{under.pk}/write/").content.decode()
    assert "3 more wanted" in page and "intent = “refund”" in page
    r = client.post(
        f"/coverage-targets/{under.pk}/write/",
        {"user": "Where is my refund?", "assistant": "On its way.", "status": "needs_review"},
    )
    assert r.status_code == 302
    written = Example.objects.order_by("-pk").first()
    assert written.current_revision.metadata == {"intent": "refund"}
    page = client.get(r["Location"]).content.decode()
    assert "2 more wanted" in page


def test_it_prefills_a_tag_buckets_tag(planned, owner, client):
    under = target(planned, owner, kind="tag", value="refunds", mode="min", share="30")
    client.force_login(owner)
    page = client.get(f"/coverage-targets/{under.pk}/queue/")  # GET is not a route method
    assert page.status_code == 405
    r = client.post(f"/coverage-targets/{under.pk}/queue/")
    assert r["Location"] == f"/coverage-targets/{under.pk}/write/"
    assert 'value="refunds"' in client.get(r["Location"]).content.decode()
    client.post(
        r["Location"], {"user": "Refund?", "assistant": "Yes.", "status": "draft", "tags": "x"}
    )
    assert sorted(t.name for t in Example.objects.order_by("-pk").first().tags.all()) == [
        "refunds",
        "x",
    ]


def test_it_sets_the_freeze_gate(planned, owner, client):
    client.force_login(owner)
    client.post(f"/datasets/{planned.pk}/coverage/gate/", {"gate": "block"})
    planned.refresh_from_db()
    assert planned.settings["coverage_gate"] == "block"
    r = client.post(f"/datasets/{planned.pk}/coverage/gate/", {"gate": "sometimes"}, follow=True)
    assert "settings.coverage_gate: must be one of off, warn, block" in r.content.decode()


def test_it_removes_a_target(planned, owner, client):
    t = target(planned, owner, kind="tag", value="refunds", mode="min", share="20")
    client.force_login(owner)
    assert client.post(f"/coverage-targets/{t.pk}/remove/").status_code == 302
    assert not CoverageTarget.objects.exists()


def test_it_refuses_a_freeze_from_the_versions_page_naming_the_gap(planned, owner, client):
    target(planned, owner, kind="tag", value="refunds", mode="about", share="20")
    planned.settings = {"coverage_gate": "block"}
    planned.save()
    client.force_login(owner)
    r = client.post(f"/datasets/{planned.pk}/versions/", {"name": "v1"})
    assert r.status_code == 409
    assert (
        "Coverage plan not met: tag &#x27;refunds&#x27;: 20% (has 10%; add 2)" in r.content.decode()
    )


def test_it_escapes_bucket_values(planned, owner, client):
    target(planned, owner, kind="tag", value="<script>alert(1)</script>", mode="min", share="1")
    client.force_login(owner)
    page = client.get(f"/datasets/{planned.pk}/coverage/").content.decode()
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page
