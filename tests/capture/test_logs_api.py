"""POST /api/v1/logs/ and the team ingest keys (DESIGN §8)."""

from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import pytest
from rest_framework.test import APIClient

from capture.models import IngestKey, Log

pytestmark = pytest.mark.django_db

ASK = [{"role": "user", "content": "What is 2+2?"}]
ANSWER = {"role": "assistant", "content": "4"}


def entry(n=0, **extra):
    return {
        "messages": [{"role": "user", "content": f"q{n}"}],
        "response": ANSWER,
        "model": "m",
        **extra,
    }


@pytest.fixture
def ingest(api_for, owner, team):
    response = api_for(owner).post(
        f"/api/v1/teams/{team.pk}/ingest-keys/", {"name": "checkout-service"}, format="json"
    )
    assert response.status_code == 201, response.content
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['key']}")
    client.key_id = response.json()["id"]
    return client


def test_it_creates_a_key_shown_once_and_stored_hashed(api_for, owner, team):
    api = api_for(owner)
    created = api.post(f"/api/v1/teams/{team.pk}/ingest-keys/", {"name": "svc"}, format="json")
    raw = created.json()["key"]
    assert raw.startswith("ftdbi_")
    assert not IngestKey.objects.filter(digest=raw).exists()
    listed = api.get(f"/api/v1/teams/{team.pk}/ingest-keys/").json()
    assert [k["name"] for k in listed] == ["svc"] and "key" not in listed[0]


def test_it_lets_only_owners_and_admins_manage_keys(api_for, teammate, outsider, team):
    url = f"/api/v1/teams/{team.pk}/ingest-keys/"
    assert api_for(teammate).post(url, {"name": "x"}, format="json").status_code == 403
    assert api_for(teammate).get(url).status_code == 403
    assert api_for(outsider).post(url, {"name": "x"}, format="json").status_code == 404


def test_it_stores_one_log_with_an_ingest_key_and_records_its_use(ingest, team):
    response = ingest.post("/api/v1/logs/", entry(tags=["prod"]), format="json")
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["accepted"] == 1
    log = Log.objects.get(pk=body["ids"][0])
    assert log.team == team and log.source == "api" and log.tags == ["prod"]
    assert IngestKey.objects.get(pk=ingest.key_id).last_used_at is not None


def test_it_stores_nothing_of_a_batch_with_one_bad_entry(ingest):
    logs = [entry(i) for i in range(5)]
    logs[3]["messages"].append({"role": "robot", "content": "x"})
    response = ingest.post("/api/v1/logs/", {"logs": logs}, format="json")
    assert response.status_code == 400
    assert [e["path"] for e in response.json()["errors"]] == ["logs[3].messages[1].role"]
    assert Log.objects.count() == 0


def test_it_stores_the_good_ones_with_skip_invalid(ingest):
    logs = [entry(0), {"messages": ASK}, entry(2)]
    response = ingest.post("/api/v1/logs/?mode=skip_invalid", {"logs": logs}, format="json")
    assert response.status_code == 202
    body = response.json()
    assert body["accepted"] == 2 and {r["index"] for r in body["rejected"]} == {1}
    assert Log.objects.count() == 2


def test_it_stores_a_retried_batch_once(ingest):
    logs = {"logs": [entry(i) for i in range(3)]}
    first = ingest.post("/api/v1/logs/", logs, format="json", HTTP_IDEMPOTENCY_KEY="batch-1")
    again = ingest.post("/api/v1/logs/", logs, format="json", HTTP_IDEMPOTENCY_KEY="batch-1")
    assert first.status_code == again.status_code == 202
    assert first.json()["ids"] == again.json()["ids"]
    assert Log.objects.count() == 3


def test_it_refuses_more_than_a_thousand_logs(ingest):
    response = ingest.post(
        "/api/v1/logs/", {"logs": [entry(i) for i in range(1001)]}, format="json"
    )
    assert response.status_code == 400 and response.json()["code"] == "too_many_logs"
    assert Log.objects.count() == 0


def test_it_refuses_a_body_over_the_cap(ingest, settings):
    settings.FINETUNEDB_LOG_BATCH_MAX_BYTES = 1000
    response = ingest.post("/api/v1/logs/", {"logs": [entry(i) for i in range(50)]}, format="json")
    assert response.status_code == 413
    assert Log.objects.count() == 0


def test_it_refuses_duplicate_keys_through_the_strict_parser(ingest):
    body = b'{"messages": [{"role": "user", "content": "a"}], "model": "m", "model": "n", "response": {"role": "assistant", "content": "b"}}'
    response = ingest.post("/api/v1/logs/", body, content_type="application/json")
    assert response.status_code == 400
    assert Log.objects.count() == 0


def test_it_takes_a_member_token_with_the_team_named(api_for, owner, teammate, outsider, team):
    assert (
        api_for(owner).post(f"/api/v1/logs/?team={team.pk}", entry(), format="json").status_code
        == 202
    )
    assert api_for(owner).post("/api/v1/logs/", entry(), format="json").status_code == 400
    assert (
        api_for(outsider).post(f"/api/v1/logs/?team={team.pk}", entry(), format="json").status_code
        == 404
    )
    assert Log.objects.get().source == "api"


def test_it_refuses_a_revoked_key(api_for, owner, team, ingest):
    revoked = api_for(owner).delete(
        f"/api/v1/teams/{team.pk}/ingest-keys/", {"id": ingest.key_id}, format="json"
    )
    assert revoked.status_code == 204
    assert ingest.post("/api/v1/logs/", entry(), format="json").status_code == 401


def test_it_answers_401_or_403_to_an_ingest_key_on_every_other_route(
    ingest, team, dataset, example, owner
):
    from tests.security.routes import all_routes, fill
    from tests.security.world import build_objects

    ids = build_objects(team=team, dataset=dataset, example=example, owner=owner)

    anonymous = APIClient()
    walked = 0
    for route, name in all_routes():
        if not route.startswith("api/"):
            continue
        path = fill(route, ids)
        for method in ("get", "post", "put", "patch", "delete"):
            if name == "api:log-list" and method == "post":
                continue
            if getattr(anonymous, method)(path, {}, format="json").status_code != 401:
                continue  # public (sign-in, the schema): the key is no different from nobody
            walked += 1
            status = getattr(ingest, method)(path, {}, format="json").status_code
            assert status in (401, 403, 405), f"{method} {path}: {status}"
    assert walked > 100


@pytest.fixture
def stored(ingest):
    logs = [
        entry(0, tags=["prod"], trace_id="t1"),
        entry(1, tags=["prod", "math"], model="m2"),
        {**entry(2), "messages": [{"role": "user", "content": "Where is the refund form?"}]},
        {**entry(3), "messages": [{"role": "user", "content": "Soldes d'été ?"}]},
    ]
    return ingest.post("/api/v1/logs/", {"logs": logs}, format="json").json()["ids"]


def test_it_lists_logs_newest_first_with_filters(api_for, owner, stored):
    api = api_for(owner)

    def ids(query=""):
        response = api.get("/api/v1/logs/" + query)
        assert response.status_code == 200, response.content
        return [log["id"] for log in response.json()["results"]]

    assert ids() == stored[::-1]
    assert ids("?search=user") == []  # the text of the turns, not the JSON around it
    assert ids("?tag=prod") == [stored[1], stored[0]]
    assert ids("?tag=prod&model=m2") == [stored[1]]
    assert ids("?trace_id=t1") == [stored[0]]
    assert ids("?search=REFUND") == [stored[2]]
    assert ids("?search=" + quote("ÉTÉ")) == [stored[3]]
    assert ids("?since=2999-01-01T00:00:00Z") == []
    assert api.get("/api/v1/logs/?since=yesterday").status_code == 400


def test_it_filters_by_a_metadata_key_and_value(api_for, owner, outsider, ingest):
    sent = [
        entry(0, metadata={"customer": "c1", "plan": "pro"}),
        entry(1, metadata={"customer": "c2", "seats": 3}),
        entry(2),
    ]
    ids = ingest.post("/api/v1/logs/", {"logs": sent}, format="json").json()["ids"]
    api = api_for(owner)

    def found(query):
        response = api.get("/api/v1/logs/" + query)
        assert response.status_code == 200, response.content
        return [log["id"] for log in response.json()["results"]]

    assert found("?metadata.customer=c1") == [ids[0]]
    assert found("?meta_key=customer&meta_value=c2") == [ids[1]]
    assert found("?meta_key=customer") == [ids[1], ids[0]]
    assert found("?metadata.seats=3&metadata.customer=c2") == [ids[1]]
    assert found("?metadata.customer=c1&metadata.plan=free") == []
    assert api.get("/api/v1/logs/?metadata.bad-key=1").status_code == 400
    assert api_for(outsider).get("/api/v1/logs/?metadata.customer=c1").json()["results"] == []


def test_it_pages_by_keyset(api_for, owner, stored):
    api = api_for(owner)
    first = api.get("/api/v1/logs/?page_size=2").json()
    assert [log["id"] for log in first["results"]] == [stored[3], stored[2]]
    second = api.get(first["next"]).json()
    assert [log["id"] for log in second["results"]] == [stored[1], stored[0]]
    assert second["next"] is None


def test_it_pages_a_time_window_newest_first_even_when_ids_are_out_of_time_order(
    api_for, owner, stored
):
    # created_at is taken before the INSERT, so a slow worker's log can get a higher id than
    # a newer one; a window's pages follow creation time, each log once.
    base = datetime(2026, 1, 10, tzinfo=UTC)
    hours = {stored[0]: 5, stored[1]: 1, stored[2]: 9, stored[3]: 3}
    for pk, hour in hours.items():
        Log.objects.filter(pk=pk).update(created_at=base + timedelta(hours=hour))
    api = api_for(owner)
    url = "/api/v1/logs/?page_size=1&since=2026-01-10T02:00:00Z&until=2026-01-10T10:00:00Z"
    seen, page = [], api.get(url).json()
    while True:
        seen += [log["id"] for log in page["results"]]
        if page["next"] is None:
            break
        page = api.get(page["next"]).json()
    assert seen == [stored[2], stored[0], stored[3]]
    back = api.get(page["previous"]).json()
    assert [log["id"] for log in back["results"]] == [stored[0]]
    until = api.get("/api/v1/logs/?until=2026-01-10T04:00:00Z").json()["results"]
    assert [log["id"] for log in until] == [stored[3], stored[1]]


def test_it_scores_a_log_and_filters_by_feedback(api_for, owner, teammate, stored):
    url = f"/api/v1/logs/{stored[0]}/feedback/"
    response = api_for(teammate).post(url, {"score": 1, "comment": "right"}, format="json")
    assert response.status_code == 200
    assert response.json()["feedback"]["score"] == 1
    assert response.json()["feedback"]["by"] == "bob"
    got = api_for(owner).get("/api/v1/logs/?feedback=positive").json()["results"]
    assert [log["id"] for log in got] == [stored[0]]
    assert api_for(owner).post(url, {"score": 3}, format="json").status_code == 400


def test_it_hides_another_teams_logs(api_for, outsider, stored):
    api = api_for(outsider)
    assert api.get(f"/api/v1/logs/{stored[0]}/").status_code == 404
    assert api.get("/api/v1/logs/").json()["results"] == []


def test_it_shows_one_log_with_its_conversation(api_for, owner, stored):
    log = api_for(owner).get(f"/api/v1/logs/{stored[1]}/").json()
    assert log["response"] == ANSWER and log["model"] == "m2" and log["tags"] == ["prod", "math"]
