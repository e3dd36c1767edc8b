"""Capture ingest (issue 19): 100,000 logs through POST /api/v1/logs/ in 1,000-log batches,
against a floor measured in the same run, on SQLite.

Input (synthetic): logs shaped like chat traffic — a system prompt, a user question of 20-80
words, an assistant answer of 30-120 words, 1-3 tags, a small metadata object, latency, usage
and a trace id — serialized once to JSON request bodies.

- floor: what storing the same rows costs without the product: ``orjson.loads`` of each body
  and ``sqlite3.executemany`` of one INSERT per log into ``capture_log`` of a copy of the app's
  migrated database — the same table: every column the app writes (JSON as text, a 64-character
  hash, the turns' text), its CHECK constraints, foreign keys and indexes — on a connection set
  up as Django's (WAL, synchronous=NORMAL, foreign keys on), one transaction per batch. It
  writes no tag, metadata or search rows: those are the product's, so they count on its side.
- value: the API path end to end — Django's test client POSTs each body with a team ingest key
  (authentication, the strict JSON parser, per-entry canonical validation, bulk insert of logs
  and tags, one transaction per batch), into the app's own migrated SQLite database.
- ``--rounds`` (default 3): floor, API, floor, API, … in one process, so a change of load on
  the shared machine hits both sides of a round; every round is printed with the load average,
  the BENCH lines give the medians.
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
import statistics
import subprocess
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

from capture.models import IngestKey, Log  # noqa: E402
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


def floor_database(team_id: int, ingest_key_id: int) -> tuple[Path, list[str], tuple]:
    """A copy of the app's migrated database (so ``capture_log`` has its own columns, CHECK
    constraints, foreign keys and every index), the columns the app writes, and the values
    every row of a batch shares."""
    path = Path(WORK) / "floor.sqlite3"
    path.unlink(missing_ok=True)
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM INTO %s", [str(path)])
    else:  # the API on PostgreSQL: the floor is still SQLite's, migrated apart (no team row)
        env = {**os.environ, "DATABASE_URL": f"sqlite:///{path}"}
        subprocess.run(  # noqa: S603 - this interpreter, this repository's manage.py
            [sys.executable, "manage.py", "migrate", "--verbosity", "0"],
            cwd=Path(__file__).resolve().parent.parent,
            env=env,
            check=True,
        )
    columns = [f.column for f in Log._meta.concrete_fields if not f.primary_key]
    shared = {
        "team_id": team_id,
        "ingest_key_id": ingest_key_id,
        "created_at": "2026-12-06 22:00:00",
        "source": "api",
        "feedback_comment": "",
        "redactions": "{}",
    }
    return path, columns, shared


def floor(batches, database) -> float:
    """orjson parse + one ``executemany`` per batch into the same table, same rows (every column
    the app stores, of the same size: a 64-character hash, the turns' text for search), on a
    connection set up as Django sets up the app's (WAL, synchronous=NORMAL, foreign keys)."""
    path, columns, shared = database
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    if connection.vendor == "sqlite":  # the copy holds the team and key rows
        db.execute("PRAGMA foreign_keys=ON")
    sql = (
        f"INSERT INTO capture_log ({', '.join(columns)}) "  # noqa: S608 (model columns)
        f"VALUES ({', '.join('?' * len(columns))})"
    )
    fixed = {name: shared.get(name) for name in columns}
    index = {name: i for i, name in enumerate(columns)}
    dumps = orjson.dumps
    hash_ = "0" * 64
    start = time.perf_counter()
    for body in batches:
        rows = []
        for e in orjson.loads(body)["logs"]:
            row = list(fixed.values())
            row[index["messages"]] = dumps(e["messages"]).decode()
            row[index["response"]] = dumps(e["response"]).decode()
            row[index["model"]] = e["model"]
            row[index["tags"]] = dumps(e["tags"]).decode()
            row[index["metadata"]] = dumps(e["metadata"]).decode()
            row[index["latency_ms"]] = e["latency_ms"]
            row[index["prompt_tokens"]] = e["usage"]["prompt_tokens"]
            row[index["completion_tokens"]] = e["usage"]["completion_tokens"]
            row[index["total_tokens"]] = e["usage"]["total_tokens"]
            row[index["trace_id"]] = e["trace_id"]
            row[index["content_hash"]] = hash_
            row[index["search_text"]] = "\n".join(
                m["content"] for m in (*e["messages"], e["response"])
            )
            rows.append(row)
        db.execute("BEGIN")
        db.executemany(sql, rows)
        db.execute("COMMIT")
    seconds = time.perf_counter() - start
    db.close()
    return seconds


def api(batches, client, key, *, replay=False, round_=0) -> float:
    start = time.perf_counter()
    for i, body in enumerate(batches):
        response = client.post(
            "/api/v1/logs/",
            body,
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Token {key}",
            HTTP_IDEMPOTENCY_KEY=f"bench-{round_}-{i}",
        )
        assert response.status_code == 202, response.content[:500]
        assert replay == (response.get("Idempotent-Replayed") == "true")
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3, help="floor, API, floor, API, ...")
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
    key_id = IngestKey.objects.get(team=team).pk
    batches = bodies(args.n, args.batch)
    mb = sum(map(len, batches)) / 1e6
    print(f"# {args.n} logs in {len(batches)} batches, {mb:.1f} MB of JSON")
    print(f"# load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    database = floor_database(team.pk, key_id)
    ratios, rates, bases, values = [], [], [], []
    client = Client()
    for round_ in range(args.rounds):
        # floor and API alternate (ABAB), so a change of load hits both sides of a round
        base = floor(batches, database)
        value = api(batches, client, key, round_=round_)
        bases.append(base)
        values.append(value)
        ratios.append(value / base)
        rates.append(args.n / value)
        print(
            f"# round {round_ + 1}: floor {base:.2f}s ({args.n / base:,.0f} logs/s), "
            f"API {value:.2f}s ({args.n / value:,.0f} logs/s), ratio {value / base:.2f}, "
            f"load {os.getloadavg()[0]:.2f}"
        )
    stored = Log.objects.filter(team=team).count()
    assert stored == args.n * args.rounds, stored
    replay = api(batches, client, key, replay=True)
    assert Log.objects.filter(team=team).count() == stored, "a replayed batch stored logs twice"
    ratio = statistics.median(ratios)
    rate = statistics.median(rates)
    base, value = statistics.median(bases), statistics.median(values)
    print(f"# replay of every batch {replay:.2f}s, 0 new rows")
    print(f"# load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(
        f"BENCH capture_ingest value={value:.2f}s baseline={base:.2f}s ratio={ratio:.2f} "
        f"target=<={TARGET_RATIO:g} pass={'yes' if ratio <= TARGET_RATIO else 'no'}"
        f"  # median of {args.rounds} rounds"
    )
    print(
        f"BENCH capture_ingest_rate value={rate:.0f}logs/s baseline={args.n / base:.0f}logs/s "
        f"ratio={rate / (args.n / base):.2f} target=>={TARGET_LOGS_PER_S} "
        f"pass={'yes' if rate >= TARGET_LOGS_PER_S else 'no'}"
    )


if __name__ == "__main__":
    main()
