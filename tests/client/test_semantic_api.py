"""The client's coverage plan methods against a live server: targets, the plan's gaps, a review
queue from an over-target bucket, and the server's refusals as the client's errors."""

from __future__ import annotations

import pytest
from finetunedb_client import Client, NotFound, ValidationError

from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def client(live, xdg):
    client = Client(live)
    client.login("alice", PASSWORD)
    return client


def test_it_plans_coverage_and_queues_a_gap(client, dataset, owner, make_example):
    for i in range(10):
        make_example(dataset, owner, tags=["refusal"] if i < 4 else [],
                     messages=[{"role": "user", "content": f"q{i}"}, {"role": "assistant", "content": "a"}])  # fmt: skip
    over = client.add_coverage_target(dataset.pk, kind="tag", value="refusal", mode="max", share=10)
    under = client.add_coverage_target(
        dataset.pk, kind="tag", value="refunds", mode="min", share=20
    )
    plan = client.coverage(dataset.pk)
    assert plan["unmet"] == 2 and [t["id"] for t in client.list_coverage_targets(dataset.pk)] == [
        over["id"], under["id"],
    ]  # fmt: skip
    # (4 - y) / (10 - y) <= 0.1 -> y = 4; (0 + x) / (10 + x) >= 0.2 -> x = 3
    assert (over["remove"], under["add"]) == (4, 3)
    queue = client.coverage_queue(over["id"])
    assert queue["items"] == 4
    assert client.update_coverage_target(under["id"], share=0)["state"] == "met"
    with pytest.raises(ValidationError):
        client.add_coverage_target(dataset.pk, kind="tag", value="x", mode="min", share=101)
    client.delete_coverage_target(under["id"])
    with pytest.raises(NotFound):
        client.get_coverage_target(under["id"])
