import json
import re
import statistics
import time
from pathlib import Path

from datasets_app.checks import RULES, CheckSettings, Scope, build_report, check_example
from datasets_app.tokens import count_example_tokens

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "checks" / "cookbook_chat.jsonl"


def fixture_rows():
    return [json.loads(line) for line in FIXTURE.read_text().splitlines()]


def test_it_builds_one_report_with_findings_dataset_rules_and_token_stats(cl100k):
    rows = fixture_rows()
    rows.append({"messages": [{"role": "user", "content": "hi"}]})  # no answer
    rows.append(["not an example"])
    report = build_report(
        [(i, row, "openai") for i, row in enumerate(rows)],
        CheckSettings(target_context_tokens=500),
        encoding=cl100k,
    )
    counts = report.counts_by_rule()
    assert counts["example_not_object"] == 1 and counts["missing_assistant_message"] == 1
    assert counts["assistant_before_user"] == 1  # the French example
    assert counts["over_context_length"] == 1  # the long summary example
    assert counts["too_few_examples"] == 1
    assert report.token_stats.n_examples == len(rows) - 1
    assert report.token_counts[0] == count_example_tokens(rows[0]["messages"], cl100k)
    assert all(f.example_key == key for key, fs in report.example_findings.items() for f in fs)
    body = report.as_dict()
    assert body["token_stats"]["n_over_limit"] == 1
    assert {r["id"] for r in body["rules"]} == set(counts)


def test_it_has_well_formed_rules():
    for rule_id, rule in RULES.items():
        assert re.fullmatch(r"[a-z][a-z0-9_]*", rule_id)
        assert rule.title and rule.why and rule.fix_hint
        assert rule.scope in (Scope.EXAMPLE, Scope.DATASET)


def test_it_rechecks_a_twenty_turn_example_well_under_50_ms(cl100k):
    messages = [{"role": "system", "content": "You are a careful assistant. " * 20}]
    for i in range(10):
        messages.append(
            {
                "role": "user",
                "content": f"Question {i}: explain topic {i} in detail, with examples. " * 15,
            }
        )
        messages.append(
            {
                "role": "assistant",
                "content": f"Topic {i} works like this, step by step, with care. " * 40,
            }
        )
    content = {"messages": messages}
    timings = []
    for _ in range(7):
        start = time.perf_counter()
        check_example(content, encoding=cl100k)
        timings.append(time.perf_counter() - start)
    assert statistics.median(timings) < 0.050
