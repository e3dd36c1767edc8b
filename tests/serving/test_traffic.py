"""A served model's traffic (serving/traffic.py): calls, tokens in/out, latency p50/p95 and
error rate over a window, from capture's served-call logs only, one query per figure; the
traffic page and the model page's panel; a served call's log links model -> run -> version."""

from __future__ import annotations

import math
from datetime import timedelta

import pytest
from django.utils import timezone

from capture.models import Log, LogSource
from capture.services.logs import log_batch_create
from serving.traffic import served_log_model, served_model_traffic
from training.models import ModelArtifact, RunStatus, TrainingRun

pytestmark = pytest.mark.django_db

ASK = [{"role": "user", "content": "Hi"}]


def make_model(version):
    run = TrainingRun.objects.create(
        version=version,
        dataset_version_hash=version.content_hash,
        base_model="bundled:SmolLM2-135M-Instruct",
        config={},
        status=RunStatus.SUCCEEDED,
    )
    return ModelArtifact.objects.create(run=run, path="runs/x/model", weights_sha256="0" * 64)


def served(team, model_name, *, latency, prompt=5, completion=7, error=False, source="serving"):
    entry = {"messages": ASK, "model": model_name, "latency_ms": latency}
    if error:
        entry["error"] = {"message": "engine stopped", "type": "server_error"}
    else:
        entry["response"] = {"role": "assistant", "content": "Hello"}
        entry["usage"] = {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
        }
    result = log_batch_create(team=team, entries=[entry], source=source)
    return Log.objects.get(pk=result.ids[0])


def nearest_rank(values, q):
    values = sorted(values)
    return values[max(1, math.ceil(round(q * len(values), 6))) - 1]


@pytest.fixture
def traffic_world(team, version):
    model = make_model(version)
    name = f"ftdb-model-{model.pk}"
    old = served(team, name, latency=9999)
    Log.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=2))
    latencies = [(i * 37) % 200 + 10 for i in range(19)]
    for latency in latencies:
        served(team, name, latency=latency)
    served(team, name, latency=500, error=True)
    served(team, "ftdb-model-999999", latency=1)  # another model
    served(team, name, latency=1, source=LogSource.API)  # not served by us
    return model, latencies + [500]


def test_it_counts_only_the_models_served_calls_in_the_window(traffic_world):
    model, latencies = traffic_world
    traffic = served_model_traffic(model, window="24h")
    assert traffic.calls == 20 and traffic.errors == 1 and traffic.error_rate == 0.05
    assert (traffic.prompt_tokens, traffic.completion_tokens) == (19 * 5, 19 * 7)
    assert traffic.latency_p50_ms == nearest_rank(latencies, 0.5)
    assert traffic.latency_p95_ms == nearest_rank(latencies, 0.95)
    wider = served_model_traffic(model, window="7d")
    assert wider.calls == 21 and wider.latency_p95_ms == nearest_rank([*latencies, 9999], 0.95)


def test_it_answers_each_figure_with_one_query(traffic_world, django_assert_num_queries):
    model, _ = traffic_world
    with django_assert_num_queries(3):  # totals, p50, p95
        served_model_traffic(model, window="30d")


def test_it_reports_no_traffic_as_empty_not_zero_latency(version):
    traffic = served_model_traffic(make_model(version), window="1h")
    assert traffic.calls == 0 and traffic.error_rate is None and traffic.latency_p50_ms is None


def test_it_shows_the_traffic_page_for_a_chosen_window(traffic_world, client, owner):
    model, _ = traffic_world
    client.force_login(owner)
    page = client.get(f"/models/{model.pk}/traffic/?window=7d")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-figure="calls">21<' in html
    assert "5% (1 of 21)" in html
    newest = Log.objects.filter(model=f"ftdb-model-{model.pk}", source="serving").latest("pk")
    assert f'href="/logs/{newest.pk}/"' in html
    panel = client.get(f"/models/{model.pk}/").content.decode()
    assert "Served traffic (last 24 hours)" in panel and 'data-figure="calls">20<' in panel


def test_it_names_the_choices_for_an_unknown_window(traffic_world, client, owner):
    model, _ = traffic_world
    client.force_login(owner)
    page = client.get(f"/models/{model.pk}/traffic/?window=1y", follow=True)
    html = page.content.decode()
    assert "Unknown window &#x27;1y&#x27;: choose one of 1h, 24h, 7d, 30d" in html
    assert 'data-figure="calls">20<' in html


def test_it_links_a_served_log_to_its_model_run_and_version(traffic_world, client, owner, team):
    model, _ = traffic_world
    log = Log.objects.filter(model=f"ftdb-model-{model.pk}", source="serving").first()
    client.force_login(owner)
    html = client.get(f"/logs/{log.pk}/").content.decode()
    assert f'href="/models/{model.pk}/"' in html
    assert f'href="/runs/{model.run_id}/"' in html
    assert f'href="/versions/{model.run.version_id}/"' in html
    # a log that only names a model (posted through the API) claims no lineage
    claimed = Log.objects.get(model=f"ftdb-model-{model.pk}", source="api")
    assert served_log_model(owner, claimed) is None
    assert "data-served-lineage" not in client.get(f"/logs/{claimed.pk}/").content.decode()


def test_it_links_no_model_of_another_team(traffic_world, outsider, other_team):
    model, _ = traffic_world
    theirs = served(other_team, f"ftdb-model-{model.pk}", latency=3)
    assert served_log_model(outsider, theirs) is None
