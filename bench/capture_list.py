"""The log list at 1,000,000 logs (issue 19): GET /api/v1/logs/ with each filter, p95 server time.

Input (synthetic, SQLite): one team's 1,000,000 logs (and 100,000 of another team, so team
scoping is not free) — short chat turns, 5 models, 1-3 of 20 tags, metadata
``{"customer": "c<1-20000>", "region": …}``, a trace id per 4 logs, feedback on 10%, and
creation times spread evenly over the last 90 days — written through the app's own insert
(``capture.services.log_store``), with no ANALYZE (the app runs none, so the planner has no
statistics), then timed through Django's test client as the owner: the
whole request (session auth, filter parsing, the team-scoped keyset query, serialization of a
50-log page).

- baseline: the unfiltered first page, measured in the same run.
- value: each filter's first page (and a deep page), 1 warm-up then ``--requests`` requests.

Target: every p95 <= 150 ms.

Usage: python bench/capture_list.py [--n 1000000] [--requests 30] [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
parser = argparse.ArgumentParser()
parser.add_argument("--n", type=int, default=1_000_000)
parser.add_argument("--requests", type=int, default=30)
parser.add_argument("--keep", help="reuse (or build once into) this folder's database")
ARGS = parser.parse_args()
WORK = ARGS.keep or tempfile.mkdtemp(prefix="finetunedb-bench-capture-list-")
os.makedirs(WORK, exist_ok=True)
os.environ["DATA_DIR"] = WORK
os.environ["DATABASE_URL"] = f"sqlite:///{WORK}/bench.sqlite3"
os.environ["DJANGO_SETTINGS_MODULE"] = "finetunedb.settings.test"

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402

from capture.entries import conversation_text  # noqa: E402
from capture.models import Log  # noqa: E402
from capture.services.log_store import log_rows_insert  # noqa: E402
from finetunedb.teams.models import Membership, Team  # noqa: E402

TARGET_MS = 150
DAYS = 90
WORDS = (
    "the a refund order ticket shipping account password invoice plan upgrade error "
    "delivery late broken discount coupon address billing card cancel renew"
).split()
MODELS = ["gpt-4o-mini", "gpt-4o", "ftdb-model-3", "ftdb-model-7", "claude-x"]
TAGS = [f"tag{i}" for i in range(20)]


def rows(n, seed):
    rng = random.Random(seed)
    for i in range(n):
        question = " ".join(rng.choice(WORDS) for _ in range(rng.randint(6, 16)))
        answer = " ".join(rng.choice(WORDS) for _ in range(rng.randint(10, 25)))
        if i % 1000 == 7:
            answer += " zebracrossing"  # a rare word: one log in a thousand
        messages = [{"role": "user", "content": f"#{i} {question}"}]
        response = {"role": "assistant", "content": answer}
        yield {
            "messages": messages,
            "tools": None,
            "response": response,
            "error": None,
            "model": MODELS[rng.randrange(len(MODELS))],
            "tags": rng.sample(TAGS, rng.randint(1, 3)),
            "metadata": {"customer": f"c{rng.randint(1, 20000)}", "region": rng.choice("ab")},
            "latency_ms": rng.randint(100, 3000),
            "prompt_tokens": 40,
            "completion_tokens": 60,
            "total_tokens": 100,
            "trace_id": f"trace-{seed}-{i // 4}",
            "client_timestamp": None,
            "content_hash": f"{seed:02d}{i:062d}",
            "search_text": conversation_text(messages + [response]),
            "redactions": {},
        }


def build(team, other, n):
    start = time.perf_counter()
    for owner_team, count, seed in ((other, n // 10, 2), (team, n, 1)):
        batch = []
        for row in rows(count, seed):
            batch.append(row)
            if len(batch) == 5000:
                with transaction.atomic():
                    log_rows_insert(
                        team_id=owner_team.pk, rows=batch, source="api", ingest_key_id=None
                    )
                batch = []
        if batch:
            with transaction.atomic():
                log_rows_insert(team_id=owner_team.pk, rows=batch, source="api", ingest_key_id=None)
    with connection.cursor() as cursor:
        low, high = (
            Log.objects.order_by("pk").values_list("pk", flat=True)[:1][0],
            Log.objects.order_by("-pk").values_list("pk", flat=True)[:1][0],
        )
        step = DAYS * 86400 / max(1, high - low)
        begin = time.time() - DAYS * 86400
        cursor.execute(
            "UPDATE capture_log SET created_at = strftime('%%Y-%%m-%%d %%H:%%M:%%f', "
            "%s + (id - %s) * %s, 'unixepoch'), feedback_score = CASE id %% 10 "
            "WHEN 0 THEN 1 WHEN 1 THEN -1 ELSE NULL END",
            [begin, low, step],
        )
    print(f"# built {n:,} + {n // 10:,} logs in {time.perf_counter() - start:.0f} s")


def timed(client, url, requests):
    client.get(url)
    times = []
    for _ in range(requests):
        start = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, (url, response.content[:300])
    times.sort()
    p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
    return statistics.median(times), p95, len(response.json()["results"])


def main() -> None:
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if not m.startswith("tests.")]
    call_command("migrate", verbosity=0)
    from django.contrib.auth import get_user_model

    owner, _ = get_user_model().objects.get_or_create(username="owner")
    team, fresh = Team.objects.get_or_create(name="bench")
    other, _ = Team.objects.get_or_create(name="other")
    Membership.objects.get_or_create(team=team, user=owner, defaults={"role": "owner"})
    if fresh or not Log.objects.filter(team=team).exists():
        build(team, other, ARGS.n)
    client = Client()
    client.force_login(owner)
    total = Log.objects.filter(team=team).count()
    middle = Log.objects.filter(team=team).order_by("-pk").values_list("pk", flat=True)[total // 2]
    day = time.strftime("%Y-%m-%dT00:00:00Z", time.gmtime(time.time() - 45 * 86400))
    next_day = time.strftime("%Y-%m-%dT00:00:00Z", time.gmtime(time.time() - 44 * 86400))
    week = time.strftime("%Y-%m-%dT00:00:00Z", time.gmtime(time.time() - 7 * 86400))
    inside = (  # a log 5,000 deep in the until window: its pages go on after it
        Log.objects.filter(team=team, created_at__lt=datetime.fromisoformat(day))
        .order_by("-created_at", "-pk")
        .values_list("pk", flat=True)[5000]
    )
    trace = Log.objects.filter(team=team, pk=middle).values_list("trace_id", flat=True)[0]
    base = "/api/v1/logs/?page_size=50"
    cases = {
        "model": "&model=ftdb-model-7",
        "tag": "&tag=tag7",
        "tag_and_model": "&tag=tag7&model=gpt-4o",
        "since_until": f"&since={day}&until={next_day}",
        "since_week": f"&since={week}",
        "until_wide": f"&until={day}",
        "until_deep_page": f"&until={day}&after={inside}",
        "until_and_model": f"&until={day}&model=ftdb-model-7",
        "until_and_tag": f"&until={day}&tag=tag7",
        "feedback": "&feedback=positive",
        "feedback_none": "&feedback=none",
        "search_common": "&search=refund",
        "search_rare": "&search=zebracrossing",
        "search_missing": "&search=nowhereword",
        "search_prefix": "&search=ref",
        "search_two_words": "&search=late+zebra",
        "search_and_tag": "&search=zebracrossing&tag=tag7",
        "search_common_and_tag": "&search=refund&tag=tag7",
        "search_deep_page": f"&search=refund&after={middle}",
        "search_in_until": f"&search=refund&until={day}",
        "search_rare_in_until": f"&search=zebracrossing&until={day}",
        "trace": f"&trace_id={trace}",
        "metadata": "&metadata.customer=c4242",
        "metadata_and_tag": "&metadata.region=a&tag=tag3",
        "team": f"&team={team.pk}",
        "deep_page": f"&after={middle}",
    }
    print(f"# {total:,} logs of the team (+ {Log.objects.count() - total:,} of another)")
    b50, b95, _ = timed(client, base, ARGS.requests)
    print(f"# baseline (no filter): p50 {b50:.1f} ms, p95 {b95:.1f} ms")
    for name, query in cases.items():
        p50, p95, found = timed(client, base + query, ARGS.requests)
        print(
            f"BENCH capture_list_{name} value={p95:.1f}ms baseline={b95:.1f}ms "
            f"ratio={p95 / b95:.2f} target=<={TARGET_MS}ms pass={'yes' if p95 <= TARGET_MS else 'no'}"
            f"  # p50 {p50:.1f} ms, {found} rows"
        )


if __name__ == "__main__":
    main()
