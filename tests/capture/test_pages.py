"""The logs pages: list with filters, one log, feedback, add to a dataset, the example's link."""

import pytest

from capture.services.logs import log_batch_create
from datasets_app.models import Example

pytestmark = pytest.mark.django_db

ANSWER = {"role": "assistant", "content": "Use the <b>refund</b> form."}


def logs(team, n, **extra):
    entries = [
        {
            "messages": [{"role": "user", "content": f"refund question {i}"}],
            "response": ANSWER,
            "model": "gpt-x",
            **extra,
        }
        for i in range(n)
    ]
    return log_batch_create(team=team, entries=entries).ids


def test_it_lists_and_filters_logs(client, owner, team):
    tagged = logs(team, 2, tags=["support"])
    logs(team, 1, tags=["other"])
    client.force_login(owner)
    page = client.get("/logs/?tag=support").content.decode()
    assert all(f'value="{i}"' in page for i in tagged) and page.count('name="ids"') == 2
    assert "since: since must be" in client.get("/logs/?since=soon").content.decode()
    [vip] = logs(team, 1, metadata={"plan": "enterprise"})
    page = client.get("/logs/?meta_key=plan&meta_value=enterprise").content.decode()
    assert f'value="{vip}"' in page and page.count('name="ids"') == 1


def test_it_shows_a_log_escaped_and_saves_feedback(client, owner, team):
    (log_id,) = logs(team, 1)
    client.force_login(owner)
    page = client.get(f"/logs/{log_id}/").content.decode()
    assert "&lt;b&gt;refund&lt;/b&gt;" in page and "<b>refund</b>" not in page
    client.post(f"/logs/{log_id}/", {"score": "1", "comment": "good"})
    assert "Score 1.0 by alice: good" in client.get(f"/logs/{log_id}/").content.decode()


def test_it_adds_sampled_filtered_logs_to_a_dataset_and_the_example_links_back(
    client, owner, team, dataset
):
    logs(team, 30, tags=["support"])
    client.force_login(owner)
    response = client.post(
        "/logs/add-to-dataset/",
        {"dataset": dataset.pk, "scope": "filter", "query": "tag=support", "sample": "12"},
        follow=True,
    )
    assert "12 examples added to support-chats" in response.content.decode()
    example = Example.objects.filter(dataset=dataset).first()
    assert example.status == "needs_review"
    page = client.get(f"/examples/{example.pk}/").content.decode()
    assert f'href="/logs/{example.source_log}/"' in page


def test_it_hides_another_teams_log(client, outsider, team):
    (log_id,) = logs(team, 1)
    client.force_login(outsider)
    assert client.get(f"/logs/{log_id}/").status_code == 404
    assert 'name="ids"' not in client.get("/logs/").content.decode()
