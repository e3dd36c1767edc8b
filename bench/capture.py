"""Capture ingest (issue 19): 100,000 logs through POST /api/v1/logs/ in 1,000-log batches,
against a floor measured in the same run, on SQLite.

Input (synthetic): logs shaped like chat traffic — a system prompt, a user question of 20-80
words, an assistant answer of 30-120 words, 1-3 tags, a small metadata object, latency, usage
and a trace id — serialized once to JSON request bodies.

- floor: what storing the same rows costs without the product: ``orjson.loads`` of each body
  and ``sqlite3.executemany`` of one INSERT per log (the same columns, JSON text for the JSON
  fields) into a plain table of a fresh database file, one transaction per batch.
- value: the API path end to end — Django's test client POSTs each body with a team ingest key
  (authentication, the strict JSON parser, per-entry canonical validation, bulk insert of logs
  and tags, one transaction per batch), into the app's own migrated SQLite database.
- the same batches once more with the same Idempotency-Keys: nothing new is stored (a retried
  ingest script makes no duplicates), and how long a replay takes.

Target: value <= 3x floor; logs/s reported (issue target >= 5,000 logs/s on this machine).

Usage: python bench/capture.py [--n 100000] [--batch 1000]
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
WORK = tempfile.mkdtemp(prefix="finetunedb-bench-capture-")
os.environ["DATA_DIR"] = WORK
# --database-url postgres://…: the API path on PostgreSQL (COPY); the floor stays SQLite's
_URL = sys.argv[sys.argv.index("--database-url") + 1] if "--database-url" in sys.argv else None
os.environ["DATABASE_URL"] = _URL or f"sqlite:///{WORK}/bench.sqlite3"
os.environ["DJANGO_SETTINGS_MODULE"] = "finetunedb.settings.test"

import django  # noqa: E402

django.setup()

import orjson  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

from capture.models import Log  # noqa: E402
from capture.services.ingest_keys import ingest_key_create  # noqa: E402
from finetunedb.teams.models import Membership, Team  # noqa: E402

TARGET_RATIO = 3.0
TARGET_LOGS_PER_S = 5000
WORDS = "the a refund order ticket shipping account password invoice plan upgrade error".split()


def text(rng, lo, hi):
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(lo, hi)))


def entries(n, seed=0):
    rng = random.Random(seed)
    for i in range(n):
        yield {
            "messages": [
                {"role": "system", "content": "You are the support assistant of Acme."},
                {"role": "user", "content": f"#{i} " + text(rng, 20, 80)},
            ],
            "response": {"role": "assistant", "content": text(rng, 30, 120)},
            "model": rng.choice(["gpt-4o-mini", "ftdb-model-3"]),
            "tags": rng.sample(["prod", "support", "billing", "eu"], rng.randint(1, 3)),
            "metadata": {"customer": f"c{rng.randint(1, 5000)}", "region": "eu"},
            "latency_ms": rng.randint(100, 3000),
            "usage": {"prompt_tokens": 80, "completion_tokens": 60, "total_tokens": 140},
            "trace_id": f"trace-{i // 4}",
        }


def bodies(n, batch):
    logs = list(entries(n))
    return [orjson.dumps({"logs": logs[i : i + batch]}) for i in range(0, n, batch)]


COLUMNS = (
    "team_id messages tools response error model tags metadata latency_ms prompt_tokens "
    "completion_tokens total_tokens trace_id client_timestamp created_at source content_hash"
).split()


def floor(batches) -> float:
    path = Path(WORK) / "floor.sqlite3"
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute(
        "CREATE TABLE log (id INTEGER PRIMARY KEY AUTOINCREMENT, "
        + ", ".join(f"{c} TEXT" for c in COLUMNS)
        + ")"
    )
    sql = f"INSERT INTO log ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
    dumps = orjson.dumps
    start = time.perf_counter()
    for body in batches:
        rows = [
            (
                1,
                dumps(e["messages"]),
                None,
                dumps(e["response"]),
                None,
                e["model"],
                dumps(e["tags"]),
                dumps(e["metadata"]),
                e["latency_ms"],
                e["usage"]["prompt_tokens"],
                e["usage"]["completion_tokens"],
                e["usage"]["total_tokens"],
                e["trace_id"],
                None,
                "2026-12-06 22:00:00",
                "api",
                "",
            )
            for e in orjson.loads(body)["logs"]
        ]
        db.execute("BEGIN")
        db.executemany(sql, rows)
        db.execute("COMMIT")
    seconds = time.perf_counter() - start
    db.close()
    return seconds


def api(batches, client, key, *, replay=False) -> float:
    start = time.perf_counter()
    for i, body in enumerate(batches):
        response = client.post(
            "/api/v1/logs/",
            body,
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Token {key}",
            HTTP_IDEMPOTENCY_KEY=f"bench-{i}",
        )
        assert response.status_code == 202, response.content[:500]
        assert replay == (response.get("Idempotent-Replayed") == "true")
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--database-url", help="a fresh PostgreSQL database for the API path")
    args = parser.parse_args()
    # the app's middleware, not the test suite's response leak scanner (tests/security)
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if not m.startswith("tests.")]
    call_command("migrate", verbosity=0)
    from django.contrib.auth import get_user_model

    owner = get_user_model().objects.create_user(username=f"owner-{os.getpid()}")
    team = Team.objects.create(name="bench")
    print(
        f"# database: {connection.vendor} {connection.Database.sqlite_version if connection.vendor == 'sqlite' else ''}"
    )
    Membership.objects.create(team=team, user=owner, role="owner")
    _, key = ingest_key_create(user=owner, team=team, name="bench")
    batches = bodies(args.n, args.batch)
    mb = sum(map(len, batches)) / 1e6
    print(f"# {args.n} logs in {len(batches)} batches, {mb:.1f} MB of JSON")
    base = floor(batches)
    value = api(batches, Client(), key)
    stored = Log.objects.filter(team=team).count()
    assert stored == args.n, stored
    replay = api(batches, Client(), key, replay=True)
    assert Log.objects.filter(team=team).count() == args.n, "a replayed batch stored logs twice"
    rate = args.n / value
    ratio = value / base
    print(f"# floor {args.n / base:,.0f} logs/s; replay of every batch {replay:.2f}s, 0 new rows")
    print(
        f"BENCH capture_ingest value={value:.2f}s baseline={base:.2f}s ratio={ratio:.2f} "
        f"target=<={TARGET_RATIO:g} pass={'yes' if ratio <= TARGET_RATIO else 'no'}"
    )
    print(
        f"BENCH capture_ingest_rate value={rate:.0f}logs/s baseline={args.n / base:.0f}logs/s "
        f"ratio={rate / (args.n / base):.2f} target=>={TARGET_LOGS_PER_S} "
        f"pass={'yes' if rate >= TARGET_LOGS_PER_S else 'no'}"
    )


if __name__ == "__main__":
    main()
