"""capture.services.log_store: the fast insert stores exactly what bulk_create would.

Marked ``postgres``: the suite runs it on SQLite (multi-row INSERT … RETURNING), and the
PostgreSQL job of scripts/test.sh runs it again there (COPY).
"""

import pytest
from django.db import IntegrityError, transaction

from capture.entries import entry_parse
from capture.models import Log, LogMeta, LogTag
from capture.services.log_store import log_rows_insert, log_rows_insert_reference

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

COLUMNS = [
    f.attname for f in Log._meta.concrete_fields if f.attname not in ("id", "team_id", "created_at")
]


def entries(n):
    out = []
    for i in range(n):
        entry = {
            "messages": [
                {"role": "system", "content": "Réponds en français. 😀 \\ \" ' \t"},
                {"role": "user", "content": f"question {i}"},
            ],
            "model": "gpt-4o-mini" if i % 2 else "ftdb-model-3",
            "tags": ["prod", f"t{i % 3}"] if i % 4 else [],
            "metadata": {
                "customer": f"c{i}",
                "n": i,
                "ratio": i / 7,
                "ok": i % 2 == 0,
                "none": None,
                "nested": {"a": [1, 2]},
                "long": "x" * 300,
            },
            "latency_ms": i,
            "trace_id": f"trace-{i // 3}",
        }
        if i % 5 == 0:
            entry["error"] = {"message": "upstream timed out", "type": "timeout"}
        else:
            entry["response"] = {"role": "assistant", "content": f"answer {i}"}
        if i % 3 == 0:
            entry["timestamp"] = "2026-12-06T21:30:00.123456+02:00"
            entry["usage"] = {"prompt_tokens": 8, "completion_tokens": 2, "total_tokens": 10}
        if i % 7 == 0:
            entry["tools"] = [
                {
                    "type": "function",
                    "function": {"name": "lookup", "parameters": {"type": "object"}},
                }
            ]
        out.append(entry)
    return out


def parsed(n):
    rows = []
    for raw in entries(n):
        row, errors = entry_parse(raw)
        assert not errors, errors
        rows.append(row)
    return rows


def stored(team, ids):
    logs = {log["id"]: log for log in Log.objects.filter(team=team).values("id", *COLUMNS)}
    tags = sorted(
        (ids.index(t.log_id), t.name) for t in LogTag.objects.filter(team=team, log_id__in=ids)
    )
    meta = sorted(
        (ids.index(m.log_id), m.key, m.value)
        for m in LogMeta.objects.filter(team=team, log_id__in=ids)
    )
    return [{k: v for k, v in logs[i].items() if k != "id"} for i in ids], tags, meta


def test_it_stores_the_same_rows_as_bulk_create(team, other_team):
    rows = parsed(1203)  # more than one statement's worth of rows on SQLite
    fast = log_rows_insert(team_id=team.pk, rows=rows, source="api", ingest_key_id=None)
    slow = log_rows_insert_reference(
        team_id=other_team.pk, rows=rows, source="api", ingest_key_id=None
    )
    assert len(fast) == len(set(fast)) == 1203
    assert stored(team, fast) == stored(other_team, slow)
    # ids are in row order: the nth id holds the nth row
    assert Log.objects.get(pk=fast[1000]).messages[1]["content"] == "question 1000"
    assert LogMeta.objects.filter(team=team, key="customer", value="c17").get().log_id == fast[17]
    assert not LogMeta.objects.filter(key__in=("nested", "long")).exists()


def test_it_leaves_nothing_of_a_batch_a_row_of_which_the_database_refuses(team):
    rows = parsed(1100)
    rows[-1]["latency_ms"] = -1  # a PositiveIntegerField: refused by its CHECK constraint
    with pytest.raises(IntegrityError), transaction.atomic():
        log_rows_insert(team_id=team.pk, rows=rows, source="api", ingest_key_id=None)
    assert not Log.objects.exists() and not LogTag.objects.exists()
    assert not LogMeta.objects.exists()
