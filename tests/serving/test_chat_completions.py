"""/v1/models and /v1/chat/completions through the official ``openai`` client against a real
engine process (the tiny model and LoRA adapters on it)."""

from __future__ import annotations

import json
import time

import openai
import pytest

from tests.serving.conftest import engine_health, make_finetuned

pytestmark = [pytest.mark.django_db, pytest.mark.slow]  # a real engine process

HELLO = [{"role": "user", "content": "Say hello."}]


def test_it_lists_base_models_and_the_teams_finetuned_models(
    openai_for, owner, outsider, finetuned, tiny_model_dir
):
    ids = [m.id for m in openai_for(owner).models.list()]
    assert ids[0] == "bundled:SmolLM2-135M-Instruct"
    assert tiny_model_dir.name in ids
    assert f"ftdb-model-{finetuned.pk}" in ids
    assert f"ftdb-model-{finetuned.pk}" not in [m.id for m in openai_for(outsider).models.list()]


def test_it_answers_a_base_model_with_an_openai_shaped_completion(
    openai_for, owner, served, tiny_model_dir
):
    done = openai_for(owner).chat.completions.create(
        model=tiny_model_dir.name, messages=HELLO, max_tokens=6, temperature=0
    )
    assert done.object == "chat.completion"
    assert done.choices[0].message.role == "assistant"
    assert done.choices[0].message.content
    assert done.choices[0].finish_reason == "length"
    assert done.usage.completion_tokens == 6
    assert done.usage.total_tokens == done.usage.prompt_tokens + 6


def test_it_streams_a_finetuned_adapter_and_ends_with_done(openai_for, owner, finetuned):
    client = openai_for(owner)
    model = f"ftdb-model-{finetuned.pk}"
    chunks = list(
        client.chat.completions.create(
            model=model, messages=HELLO, max_tokens=8, temperature=0, stream=True,
            stream_options={"include_usage": True},
        )
    )  # fmt: skip
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "length"
    assert chunks[-1].usage.completion_tokens == 8
    whole = client.chat.completions.create(model=model, messages=HELLO, max_tokens=8, temperature=0)
    assert whole.choices[0].message.content == text


def test_it_answers_differently_with_the_adapter_than_with_its_base(
    openai_for, owner, finetuned, tiny_model_dir
):
    client = openai_for(owner)
    ask = {"messages": HELLO, "max_tokens": 12, "temperature": 0}
    tuned = client.chat.completions.create(model=f"ftdb-model-{finetuned.pk}", **ask)
    base = client.chat.completions.create(model=tiny_model_dir.name, **ask)
    assert tuned.choices[0].message.content != base.choices[0].message.content


def test_it_switches_adapters_past_the_bound_and_keeps_answering(
    openai_for, owner, finetuned, version, tiny_model_dir, engine
):
    second = make_finetuned(version, 2, tiny_model_dir)
    client = openai_for(owner)
    ask = {"messages": HELLO, "max_tokens": 6, "temperature": 0}
    first = client.chat.completions.create(model=f"ftdb-model-{finetuned.pk}", **ask)
    evictions = engine_health(engine)["adapter_evictions"]
    client.chat.completions.create(model=f"ftdb-model-{second.pk}", **ask)
    # The engine was started with --max-adapters 1: the first adapter was unloaded for the second.
    assert engine_health(engine)["adapter_evictions"] == evictions + 1
    again = client.chat.completions.create(model=f"ftdb-model-{finetuned.pk}", **ask)
    assert again.choices[0].message.content == first.choices[0].message.content


def test_it_gives_the_same_sample_for_the_same_seed(openai_for, owner, served, tiny_model_dir):
    client = openai_for(owner)
    ask = {"model": tiny_model_dir.name, "messages": HELLO, "max_tokens": 8, "temperature": 1.0}
    one = client.chat.completions.create(seed=7, **ask).choices[0].message.content
    two = client.chat.completions.create(seed=7, **ask).choices[0].message.content
    assert one == two


def test_it_hides_another_teams_model_as_model_not_found(openai_for, outsider, finetuned):
    with pytest.raises(openai.NotFoundError) as caught:
        openai_for(outsider).chat.completions.create(
            model=f"ftdb-model-{finetuned.pk}", messages=HELLO
        )
    assert caught.value.body["code"] == "model_not_found"
    with pytest.raises(openai.NotFoundError):
        openai_for(outsider).chat.completions.create(model="ftdb-model-999999", messages=HELLO)


def test_it_refuses_a_missing_or_wrong_token(openai_for, owner, served, tiny_model_dir):
    with pytest.raises(openai.AuthenticationError) as caught:
        openai_for(owner, token="not-a-token").models.list()
    assert caught.value.body["code"] == "invalid_api_key"


@pytest.mark.parametrize(
    "change,param",
    [
        ({"n": 2}, "n"),
        ({"temperature": 3}, "temperature"),
        ({"top_p": 0}, "top_p"),
        ({"max_tokens": 0}, "max_tokens"),
        ({"max_tokens": 100000}, "max_tokens"),
        ({"messages": []}, "messages"),
        ({"messages": [{"role": "robot", "content": "x"}]}, "messages[0].role"),
        ({"stop": ["a", "b", "c", "d", "e"]}, "stop"),
        ({"seed": "x"}, "seed"),
    ],
)
def test_it_names_the_bad_parameter(client, owner, served, tiny_model_dir, change, param):
    from finetunedb.teams.services import api_token_create

    token = api_token_create(user=owner)[1]
    body = {"model": tiny_model_dir.name, "messages": HELLO, **change}
    response = post(client, token, json.dumps(body))
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "invalid_request_error"
    assert response.json()["error"]["param"] == param


def post(client, token, body, **extra):
    return client.post(
        "/v1/chat/completions", body, content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}", **extra,
    )  # fmt: skip


def test_it_refuses_an_oversize_body_and_bad_json(client, owner, served, tiny_model_dir):
    from finetunedb.teams.services import api_token_create

    token = api_token_create(user=owner)[1]
    served.FINETUNEDB_SERVING_MAX_BODY_BYTES = 1000
    big = json.dumps(
        {"model": tiny_model_dir.name, "messages": [{"role": "user", "content": "x" * 2000}]}
    )
    assert post(client, token, big).status_code == 413
    bad = post(client, token, "{not json")
    assert bad.status_code == 400 and "not valid JSON" in bad.json()["error"]["message"]


def test_it_answers_503_with_retry_after_when_the_engine_is_down(
    client, owner, served, tiny_model_dir
):
    from finetunedb.teams.services import api_token_create

    served.FINETUNEDB_SERVING_URL = "http://127.0.0.1:9"  # nothing listens there
    token = api_token_create(user=owner)[1]
    response = post(client, token, json.dumps({"model": tiny_model_dir.name, "messages": HELLO}))
    assert response.status_code == 503
    assert response["Retry-After"]
    assert response.json()["error"]["code"] == "engine_unavailable"


def test_it_stops_generating_when_the_client_abandons_the_stream(
    openai_for, owner, served, tiny_model_dir, engine
):
    before = engine_health(engine)
    stream = openai_for(owner).chat.completions.create(
        model=tiny_model_dir.name, messages=HELLO, max_tokens=450, temperature=0, stream=True
    )
    for _, _chunk in zip(range(3), stream, strict=False):
        pass
    stream.close()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        now = engine_health(engine)
        if now["active"] == 0 and now.get("cancelled", 0) > before.get("cancelled", 0):
            break
        time.sleep(0.05)
    assert now["active"] == 0
    assert now.get("cancelled", 0) == before.get("cancelled", 0) + 1
    assert now["tokens"] - before.get("tokens", 0) < 450


def test_it_logs_every_served_call_into_its_teams_capture(openai_for, owner, finetuned, team):
    from capture.models import Log

    client = openai_for(owner)
    model = f"ftdb-model-{finetuned.pk}"
    done = client.chat.completions.create(model=model, messages=HELLO, max_tokens=5, temperature=0)
    list(client.chat.completions.create(model=model, messages=HELLO, max_tokens=5, stream=True))
    logs = list(Log.objects.filter(team=team, model=model).order_by("pk"))
    assert [log.source for log in logs] == ["serving", "serving"]
    assert logs[0].messages == HELLO
    assert logs[0].response["content"] == done.choices[0].message.content
    assert logs[0].completion_tokens == 5 and logs[0].latency_ms is not None


def test_it_serves_a_teams_models_to_its_ingest_key_only(
    openai_for, owner, finetuned, team, other_team, outsider
):
    from capture.models import Log
    from capture.services.ingest_keys import ingest_key_create

    _, raw = ingest_key_create(user=owner, team=team, name="app")
    client = openai_for(None, token=raw)
    model = f"ftdb-model-{finetuned.pk}"
    assert model in [m.id for m in client.models.list()]
    client.chat.completions.create(model=model, messages=HELLO, max_tokens=3)
    assert Log.objects.filter(team=team, model=model, source="serving").count() == 1
    _, theirs = ingest_key_create(user=outsider, team=other_team, name="theirs")
    with pytest.raises(openai.NotFoundError):
        openai_for(None, token=theirs).chat.completions.create(model=model, messages=HELLO)


def test_it_answers_an_error_when_the_engine_dies_mid_stream_and_works_after_a_restart(
    openai_for, owner, served, serving_models_dir, tiny_model_dir
):
    from tests.serving.conftest import start_engine

    process, url = start_engine(serving_models_dir, tiny_model_dir)
    served.FINETUNEDB_SERVING_URL = url
    client = openai_for(owner)
    ask = {"model": tiny_model_dir.name, "messages": HELLO, "max_tokens": 450, "temperature": 0}
    stream = client.chat.completions.create(stream=True, **ask)
    next(iter(stream))
    process.kill()
    process.wait(timeout=10)
    with pytest.raises(openai.APIError):
        list(stream)
    with pytest.raises(openai.InternalServerError) as caught:
        client.chat.completions.create(**ask)
    assert caught.value.status_code == 503
    process, url = start_engine(serving_models_dir, tiny_model_dir)
    try:
        served.FINETUNEDB_SERVING_URL = url  # a restarted worker (a new port here)
        assert (
            client.chat.completions.create(**{**ask, "max_tokens": 3}).usage.completion_tokens == 3
        )
    finally:
        process.terminate()
        process.wait(timeout=10)
