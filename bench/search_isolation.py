"""A search in a small dataset must cost the same whether or not another team's data holds the
word (issue 14.5: 1 s instead of 74 ms told the searcher the word was there).

Input (synthetic, SQLite, the app's own migrations and triggers): team A's dataset of 12
examples, 4 of which hold "paris"; then team B's dataset of ``--other`` examples (default
60,000), every one holding "paris" (and "parisian"), inserted set-based as an import does.

Measured (Django test Client in process, logged in as a member of A, ``--repeat`` rounds; the
best round counts, as the machine is shared, and medians are printed too): one round is the
example list searched for "paris", for "par" (a prefix), for "paris" newest first, and the count
the search page fetches after it is shown; then the search queries alone (list query and index
window). Baseline: the same in the same run before team B's data exists. Target: ratio <= 1.2.

``--control`` gives team B's rows another word instead, so the difference between the two runs
is what B's word costs A, apart from what B's mere size costs.

Usage: python bench/search_isolation.py [--other 60000] [--repeat 30] [--control]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench._data import django_start, make_dataset  # noqa: E402

TARGET = 1.2
ROUND = [{"search": "paris"}, {"search": "par"}, {"search": "paris", "sort": "-id"}]


def chat(text: str) -> list[dict]:
    return [{"role": "user", "content": text}, {"role": "assistant", "content": "towers of paris"}]


def insert(dataset_id: int, user_id: int, texts: list[str]) -> float:
    from django.db import transaction

    from datasets_app.canonical import content_hash
    from datasets_app.services.example_rows import examples_insert_new

    rows = [({"messages": chat(t)}, "jsonl", content_hash(chat(t), None)) for t in texts]
    start = time.perf_counter()
    with transaction.atomic():
        examples_insert_new(dataset_id=dataset_id, user_id=user_id, rows=rows, count=len(rows))
    return time.perf_counter() - start


def rounds(client, url: str, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        for params in ROUND:
            assert client.get(url, params).status_code == 200
        assert client.get(url, {"search": "paris", "count": "1"}).status_code == 200
        out.append((time.perf_counter() - start) * 1000)
    return out


def query_ms(dataset, repeat: int) -> float:
    """Best time of the search queries alone (no page): the list query and the index window."""
    from datasets_app.selectors import example_list
    from datasets_app.workspace.keyset import keyset_search_page

    times = []
    for _ in range(repeat * 10):
        start = time.perf_counter()
        for text in ("paris", "par"):
            qs = example_list(dataset, filters={"search": text})
            list(qs.values_list("pk", flat=True))
            keyset_search_page(qs, text, **search_page_args(dataset))
        times.append((time.perf_counter() - start) * 1000)
    return min(times)


def search_page_args(dataset) -> dict:
    import inspect

    from datasets_app.workspace.keyset import keyset_search_page

    params = inspect.signature(keyset_search_page).parameters
    return {"sort": "id", **({"dataset_id": dataset.pk} if "dataset_id" in params else {})}


def measure(other: int, repeat: int, word: str) -> None:
    from django.test import Client

    user, mine = make_dataset("bench-search-mine")
    insert(
        mine.pk, user.pk, [f"question {i}" + (" paris" if i % 3 == 0 else "") for i in range(12)]
    )
    client = Client()
    client.force_login(user)
    url = f"/datasets/{mine.pk}/"
    rounds(client, url, 3)  # warm-up
    alone = rounds(client, url, repeat)
    baseline = min(alone)
    print(
        f"search round, 12-example dataset alone:            best {baseline:7.1f} ms  "
        f"median {statistics.median(alone):7.1f} ms"
    )
    query_base = query_ms(mine, repeat)

    _, theirs = make_dataset("bench-search-theirs")
    seconds = insert(
        theirs.pk, user.pk, [f"{word} {word}ian item {i} of theirs" for i in range(other)]
    )
    print(f"inserted {other:,} examples of another team holding {word!r} in {seconds:.1f} s")
    beside = rounds(client, url, repeat)
    value = min(beside)
    print(
        f"search round, with the other team's {other:,} rows: best {value:7.1f} ms  "
        f"median {statistics.median(beside):7.1f} ms"
    )
    query_value = query_ms(mine, repeat)
    print(
        f"search queries alone (list + index window, 'paris' and 'par'): {query_value:.2f} ms "
        f"against {query_base:.2f} ms alone ({query_value / query_base:.2f}x)"
    )
    ratio = value / baseline
    print(
        f"BENCH search_isolation value={value:.1f}ms baseline={baseline:.1f}ms ratio={ratio:.2f} "
        f"target=<={TARGET} pass={'yes' if ratio <= TARGET else 'no'}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--other", type=int, default=60_000)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument(
        "--control",
        action="store_true",
        help="the other team's rows without the word: what their mere size costs",
    )
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="finetunedb-bench-search-"))
    try:
        django_start(work)
        from django.conf import settings
        from django.test.utils import override_settings

        storages = {
            **settings.STORAGES,
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        }
        with override_settings(
            ALLOWED_HOSTS=[*settings.ALLOWED_HOSTS, "testserver"], STORAGES=storages
        ):
            measure(args.other, args.repeat, word="lyon" if args.control else "paris")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
