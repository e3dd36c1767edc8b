"""Requests per minute per key, counted in the database (finetunedb.teams.rate_limits): the
limit, the window's reset, refused requests not counted, one count per key, and no lost counts
when many connections (as gunicorn's workers) hit the same key at once.

Marked ``postgres``: the count is one upsert with RETURNING, run again on PostgreSQL by
scripts/test.sh."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from finetunedb.teams import rate_limits
from finetunedb.teams.models import RequestWindow
from finetunedb.teams.rate_limits import rate_limit_hit

pytestmark = pytest.mark.postgres

T0 = 1_800_000_000.0  # a window's start (a multiple of 60)


@pytest.fixture(autouse=True)
def fresh_process():
    """Each test starts as a new web process, holding no requests drawn before."""
    rate_limits._drawn.clear()
    yield
    rate_limits._drawn.clear()


def hits(n, *, key="apitoken:1", now=T0 + 5):
    return [rate_limit_hit(scope="v1", key=key, now=now) for _ in range(n)]


@pytest.mark.django_db
def test_it_allows_the_limit_then_refuses_with_the_seconds_left(settings):
    settings.FINETUNEDB_SERVING_RATE_LIMIT_PER_MINUTE = 3
    decisions = hits(4)
    assert [d.allowed for d in decisions] == [True, True, True, False]
    assert [d.remaining for d in decisions] == [2, 1, 0, 0]
    assert decisions[-1].retry_after_s == 55
    assert decisions[-1].headers()["Retry-After"] == "55"
    assert "3 requests per minute" in decisions[-1].message


@pytest.mark.django_db
def test_it_does_not_count_refused_requests_and_opens_a_new_window(settings):
    settings.FINETUNEDB_SERVING_RATE_LIMIT_PER_MINUTE = 2
    hits(10)
    assert RequestWindow.objects.get().count == 2
    assert [d.allowed for d in hits(3, now=T0 + 61)] == [True, True, False]
    assert RequestWindow.objects.count() == 1  # the spent window was removed


@pytest.mark.django_db
def test_it_counts_each_key_on_its_own_and_can_be_turned_off(settings):
    settings.FINETUNEDB_SERVING_RATE_LIMIT_PER_MINUTE = 1
    assert [d.allowed for d in hits(2, key="apitoken:1")] == [True, False]
    assert [d.allowed for d in hits(2, key="ingestkey:1")] == [True, False]
    assert rate_limit_hit(scope="proxy", key="apitoken:1", now=T0).allowed
    settings.FINETUNEDB_SERVING_RATE_LIMIT_PER_MINUTE = 0
    assert all(d.allowed for d in hits(5))


@pytest.mark.django_db(transaction=True)
def test_it_loses_no_count_when_many_connections_hit_one_key_at_once(settings):
    settings.FINETUNEDB_SERVING_RATE_LIMIT_PER_MINUTE = 20
    allowed, barrier = [], threading.Barrier(6)

    def worker():
        try:  # each thread is its own database connection, as each gunicorn worker is
            barrier.wait()
            allowed.extend(d.allowed for d in hits(6))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(allowed) == 36
    assert allowed.count(True) == 20
    assert RequestWindow.objects.get().count == 20


@pytest.mark.django_db
def test_it_draws_a_high_limit_in_blocks_and_never_passes_it(settings):
    settings.FINETUNEDB_SERVING_RATE_LIMIT_PER_MINUTE = 600
    first = hits(1)[0]
    assert first.allowed and first.remaining == 599
    assert RequestWindow.objects.get().count == 10  # one write for the next ten requests
    assert [d.remaining for d in hits(10)] == list(range(598, 588, -1))
    assert RequestWindow.objects.get().count == 20
    rate_limits._drawn.clear()  # a second process: it counts what the first one holds as spent
    second = hits(600)
    assert second[0].remaining == 579
    assert sum(d.allowed for d in second) == 580
    assert RequestWindow.objects.get().count == 600
