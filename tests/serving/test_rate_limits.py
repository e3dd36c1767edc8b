"""Per-key requests per minute on /v1/... and /proxy/v1/...: an OpenAI-shaped 429 with
Retry-After past the limit, each API token or ingest key counted on its own."""

from __future__ import annotations

import pytest
from django.test import Client

from finetunedb.teams.services import api_token_create
from tests.capture.test_proxy import ASK, call, key, upstream  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db(transaction=True)


def models(token):
    return Client().get("/v1/models", HTTP_AUTHORIZATION=f"Bearer {token}")


def assert_openai_429(response, limit):
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "rate_limit_exceeded"
    assert f"{limit} requests per minute" in response.json()["error"]["message"]
    assert 1 <= int(response["Retry-After"]) <= 60
    assert response["x-ratelimit-remaining-requests"] == "0"


def test_it_limits_each_api_token_per_minute_on_v1(settings, owner, team):
    settings.FINETUNEDB_SERVING_RATE_LIMIT_PER_MINUTE = 2
    first, second = api_token_create(user=owner)[1], api_token_create(user=owner)[1]
    assert [models(first).status_code for _ in range(2)] == [200, 200]
    assert_openai_429(models(first), 2)
    body = {"model": "nope", "messages": [{"role": "user", "content": "Hi"}]}
    refused = Client().post(
        "/v1/chat/completions", body, content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {first}",
    )  # fmt: skip
    assert_openai_429(refused, 2)
    assert models(second).status_code == 200  # another token has its own count


def test_it_checks_the_key_before_counting(settings):
    settings.FINETUNEDB_SERVING_RATE_LIMIT_PER_MINUTE = 1
    for _ in range(3):
        assert models("ftdb_not-a-token").status_code == 401


def test_it_limits_each_ingest_key_per_minute_on_the_proxy(settings, upstream, key):  # noqa: F811
    settings.FINETUNEDB_PROXY_RATE_LIMIT_PER_MINUTE = 1
    assert call(key, ASK).status_code == 200
    assert_openai_429(call(key, ASK), 1)
