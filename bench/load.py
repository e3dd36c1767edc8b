"""Load: concurrent API clients against the production stack and the embedded default, side by side.

    .venv/bin/python bench/load.py [--clients 50] [--duration 60] [--modes production,embedded]

For each mode, ``scripts/stack.sh`` starts the app on 127.0.0.1 (production: gunicorn with
finetunedb.settings.production, PostgreSQL, Redis, a default and a training worker; embedded:
SQLite and the filesystem broker, as ``make run``), seeds one dataset with SEED examples, then
``--clients`` threads loop for ``--duration`` seconds, each request bounded by a timeout, over:
listing, searching, editing an example with If-Match (re-reading and retrying on 412), importing a
small file of rows unique to that import, and exporting the dataset — plus one freeze every 10 s.

Printed per mode: throughput and p50/p95/p99 latency per operation. What must hold, checked after
the run: zero 5xx answers; zero lost updates (every edited example's final content is the content
of its last successful write, as the clients recorded it by the revision each write returned);
every import all-or-nothing (a succeeded import's rows are all in the export, a failed one's none).
The embedded default is the baseline of the BENCH lines. Loopback only; nothing is downloaded.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import threading
import time
import uuid
from collections import defaultdict
from pathlib import Path

import orjson
import requests

ROOT = Path(__file__).resolve().parents[1]
SEED = 400
TIMEOUT_S = 60
FREEZE_EVERY_S = 10
MIX = [("list", 30), ("search", 20), ("edit", 30), ("import", 8), ("export", 12)]
WORDS = ["refund", "shipping", "password", "invoice", "upgrade", "delay", "warranty", "login"]


def chat(text: str) -> list[dict]:
    return [{"role": "user", "content": text}, {"role": "assistant", "content": f"Re: {text}"}]


class Stack:
    def __init__(self, mode: str):
        self.mode = mode

    def __enter__(self):
        env = {**os.environ, "STACK_MODE": self.mode, "STACK_PORT": "8766"}
        # The load mix keeps many imports in flight in one team; the per-team cap (default 3,
        # SECURITY.md) would turn most into 409s and measure refusals instead of imports.
        env.setdefault("FINETUNEDB_MAX_ACTIVE_IMPORTS_PER_TEAM", "1000")
        out = subprocess.run(
            [ROOT / "scripts" / "stack.sh", "start"], env=env, check=True, capture_output=True
        )
        env_file = out.stdout.decode().strip().splitlines()[-1]
        self.env = dict(
            line.removeprefix("export ").split("=", 1)
            for line in _env_lines(Path(env_file).read_text())
        )
        return self

    def __exit__(self, *exc):
        env = {**os.environ, "STACK_MODE": self.mode, "STACK_PORT": "8766"}
        # The load mix keeps many imports in flight in one team; the per-team cap (default 3,
        # SECURITY.md) would turn most into 409s and measure refusals instead of imports.
        env.setdefault("FINETUNEDB_MAX_ACTIVE_IMPORTS_PER_TEAM", "1000")
        subprocess.run([ROOT / "scripts" / "stack.sh", "stop"], env=env, capture_output=True)


def _env_lines(text: str):
    for line in text.splitlines():
        for word in line.removeprefix("export ").split():
            if "=" in word:
                yield word.strip("'")


class Load:
    def __init__(self, base: str, user: str, password: str, clients: int, duration: float):
        self.base, self.clients, self.duration = base + "/api/v1", clients, duration
        token = requests.post(
            f"{self.base}/auth/token/",
            json={"username": user, "password": password},
            timeout=TIMEOUT_S,
        ).json()["token"]
        self.headers = {"Authorization": f"Token {token}"}
        self.lock = threading.Lock()
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, int] = defaultdict(int)  # 5xx and transport errors
        self.conflicts = 0
        self.writes: dict[
            int, tuple[int, list]
        ] = {}  # example → (revision, messages) of its last write
        self.imports: list[tuple[int, str, int]] = []  # job id, tag, rows

    def session(self) -> requests.Session:
        session = requests.Session()
        session.headers.update(self.headers)
        return session

    def call(self, session, op: str, method: str, path: str, **kw) -> requests.Response | None:
        start = time.perf_counter()
        try:
            response = session.request(method, self.base + path, timeout=TIMEOUT_S, **kw)
            _ = response.content
        except requests.RequestException:
            with self.lock:
                self.errors[op] += 1
            return None
        elapsed = time.perf_counter() - start
        with self.lock:
            self.latency[op].append(elapsed)
            if response.status_code >= 500:
                self.errors[op] += 1
        return response

    def seed(self) -> None:
        s = self.session()
        team = s.get(f"{self.base}/teams/", timeout=TIMEOUT_S).json()[0]["id"]
        name = f"load-{uuid.uuid4().hex[:8]}"
        self.dataset = s.post(
            f"{self.base}/datasets/", json={"team": team, "name": name}, timeout=TIMEOUT_S
        ).json()["id"]
        rows = b"".join(
            orjson.dumps({"messages": chat(f"seed {i} about {WORDS[i % len(WORDS)]}")}) + b"\n"
            for i in range(SEED)
        )
        job = s.post(
            f"{self.base}/datasets/{self.dataset}/imports/",
            files={"file": ("seed.jsonl", rows)},
            timeout=TIMEOUT_S,
        ).json()
        self.wait_import(s, job["id"])
        listed = s.get(
            f"{self.base}/datasets/{self.dataset}/examples/?page_size=500", timeout=TIMEOUT_S
        ).json()
        self.pool = [row["id"] for row in listed["results"]]

    def wait_import(self, session, job_id: int, limit_s: float = 300) -> dict:
        deadline = time.monotonic() + limit_s
        while time.monotonic() < deadline:
            job = session.get(f"{self.base}/imports/{job_id}/", timeout=TIMEOUT_S).json()
            if job["status"] in ("succeeded", "failed"):
                return job
            time.sleep(0.25)
        raise RuntimeError(f"import {job_id} did not finish in {limit_s} s")

    # --- operations ----------------------------------------------------------------------------
    def op_list(self, s, rng):
        self.call(s, "list", "GET", f"/datasets/{self.dataset}/examples/?page={rng.randint(1, 4)}")

    def op_search(self, s, rng):
        self.call(
            s, "search", "GET", f"/datasets/{self.dataset}/examples/?search={rng.choice(WORDS)}"
        )

    def op_edit(self, s, rng):
        example = rng.choice(self.pool)
        for _ in range(10):  # bounded retries on 412
            got = self.call(s, "edit", "GET", f"/examples/{example}/")
            if got is None or got.status_code != 200:
                return
            messages = chat(f"edit {uuid.uuid4().hex[:12]} about {rng.choice(WORDS)}")
            put = self.call(
                s, "edit", "PATCH", f"/examples/{example}/",
                json={"messages": messages}, headers={"If-Match": got.headers["ETag"]},
            )  # fmt: skip
            if put is None:
                return
            if put.status_code == 412:
                with self.lock:
                    self.conflicts += 1
                continue
            if put.status_code == 200:
                revision = int(put.headers["ETag"].strip('"'))
                with self.lock:
                    if revision > self.writes.get(example, (0, None))[0]:
                        self.writes[example] = (revision, messages)
            return

    def op_import(self, s, rng):
        tag, rows = uuid.uuid4().hex[:10], rng.randint(3, 20)
        body = b"".join(
            orjson.dumps({"messages": chat(f"import {tag} row {i}")}) + b"\n" for i in range(rows)
        )
        got = self.call(
            s, "import", "POST", f"/datasets/{self.dataset}/imports/",
            files={"file": (f"{tag}.jsonl", body)},
        )  # fmt: skip
        if got is not None and got.status_code == 202:
            with self.lock:
                self.imports.append((got.json()["id"], tag, rows))

    def op_export(self, s, rng):
        self.call(s, "export", "GET", f"/datasets/{self.dataset}/export/")

    def freezer(self, stop: threading.Event):
        s = self.session()
        while not stop.wait(FREEZE_EVERY_S):
            self.call(
                s, "freeze", "POST", f"/datasets/{self.dataset}/versions/",
                json={"force": True, "reason": "load test"},
            )  # fmt: skip

    def client(self, seed: int, deadline: float):
        rng, s = random.Random(seed), self.session()
        ops = [getattr(self, f"op_{name}") for name, _ in MIX]
        weights = [w for _, w in MIX]
        while time.monotonic() < deadline:
            rng.choices(ops, weights)[0](s, rng)

    def run(self) -> dict:
        self.seed()
        stop, deadline = threading.Event(), time.monotonic() + self.duration
        threads = [
            threading.Thread(target=self.client, args=(i, deadline)) for i in range(self.clients)
        ]
        freezer = threading.Thread(target=self.freezer, args=(stop,))
        started = time.monotonic()
        for thread in [*threads, freezer]:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - started
        stop.set()
        freezer.join()
        return {"elapsed": elapsed, **self.verify()}

    def verify(self) -> dict:
        s = self.session()
        lost = 0
        for example, (revision, messages) in self.writes.items():
            final = s.get(f"{self.base}/examples/{example}/", timeout=TIMEOUT_S)
            if (
                int(final.headers["ETag"].strip('"')) != revision
                or final.json()["messages"] != messages
            ):
                lost += 1
        statuses = {job: self.wait_import(s, job)["status"] for job, _, _ in self.imports}
        export = s.get(f"{self.base}/datasets/{self.dataset}/export/", timeout=300).content
        present: dict[str, int] = defaultdict(int)
        for line in export.splitlines():
            text = orjson.loads(line)["messages"][0]["content"]
            if text.startswith("import "):
                present[text.split()[1]] += 1
        partial = sum(
            1
            for job, tag, rows in self.imports
            if present[tag] != (rows if statuses[job] == "succeeded" else 0)
        )
        return {
            "lost": lost,
            "edited": len(self.writes),
            "imports": len(self.imports),
            "imports_failed": sum(1 for v in statuses.values() if v != "succeeded"),
            "partial": partial,
        }


def pct(values: list[float], q: float) -> float:
    return (
        statistics.quantiles(values, n=100, method="inclusive")[q - 1]
        if len(values) > 1
        else values[0]
    )


def measure(mode: str, clients: int, duration: float) -> dict:
    with Stack(mode) as stack:
        load = Load(
            stack.env["FINETUNEDB_URL"], stack.env["FINETUNEDB_USER"],
            stack.env["FINETUNEDB_PASSWORD"], clients, duration,
        )  # fmt: skip
        result = load.run()
    ops = {}
    for op, values in sorted(load.latency.items()):
        ops[op] = {
            "n": len(values),
            "rps": len(values) / result["elapsed"],
            "p50": pct(values, 50) * 1000,
            "p95": pct(values, 95) * 1000,
            "p99": pct(values, 99) * 1000,
        }
    return {**result, "ops": ops, "errors": dict(load.errors), "conflicts": load.conflicts}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--duration", type=float, default=60)
    parser.add_argument("--modes", default="production,embedded")
    args = parser.parse_args()
    results = {}
    for mode in args.modes.split(","):
        r = results[mode] = measure(mode, args.clients, args.duration)
        print(f"== {mode}: {args.clients} clients, {r['elapsed']:.0f} s")
        for op, f in r["ops"].items():
            print(
                f"{mode:10} {op:7} n={f['n']:6d} {f['rps']:7.1f}/s  p50={f['p50']:7.0f} ms  "
                f"p95={f['p95']:7.0f} ms  p99={f['p99']:7.0f} ms"
            )
        print(
            f"{mode:10} 5xx/transport errors={sum(r['errors'].values())} {r['errors']}  "
            f"412 retries={r['conflicts']}  edited examples={r['edited']} lost updates={r['lost']}  "
            f"imports={r['imports']} (failed {r['imports_failed']}) partial imports={r['partial']}"
        )
    base = results.get("embedded")
    for mode, r in results.items():
        total = sum(f["n"] for f in r["ops"].values()) / r["elapsed"]
        ok = not r["errors"] and r["lost"] == 0 and r["partial"] == 0
        ratio = (
            f"{total / (sum(f['n'] for f in base['ops'].values()) / base['elapsed']):.2f}"
            if base
            else "n/a"
        )
        print(
            f"BENCH load_{mode}_throughput value={total:.1f}req/s "
            f"baseline={'embedded' if base else 'none'} ratio={ratio} target=zero-5xx,zero-lost "
            f"pass={'yes' if ok else 'no'}"
        )
        print(
            f"BENCH load_{mode}_errors value={sum(r['errors'].values())} lost={r['lost']} "
            f"partial_imports={r['partial']} target=0 pass={'yes' if ok else 'no'}"
        )


if __name__ == "__main__":
    main()
