"""The report's fused pass must give exactly what the rule modules give, one by one."""

from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from datasets_app.checks import (
    CheckSettings,
    build_report,
    check_dataset,
    check_example,
    summarize_example,
)
from datasets_app.checks.scan import CHUNK_SIZE, scan_examples
from datasets_app.tokens import count_example_tokens, token_stats
from tests.datasets_app.checks.strategies import examples

SETTINGS = [
    CheckSettings(),
    CheckSettings(target_context_tokens=40, min_answer_chars=6),
    CheckSettings(disabled_rules=frozenset({"contains_url", "unfilled_placeholder"})),
    CheckSettings(assistant_json_schema={"type": "object"}),
]


def reference(items, check_settings, encoding):
    """Per example: tokens, findings and summary computed rule module by rule module."""
    out = []
    for key, content, source_format, content_hash in items:
        messages = content.get("messages") if isinstance(content, dict) else None
        tokens = summary = None
        if isinstance(messages, list) and messages and all(isinstance(m, dict) for m in messages):
            tokens = count_example_tokens(messages, encoding)
            summary = summarize_example(
                key, content, source_format=source_format, content_hash=content_hash
            )
        out.append((key, tokens, check_example(content, check_settings, tokens=tokens), summary))
    return out


def as_items(contents, with_hashes):
    return [
        (i, content, "alpaca" if i % 3 else "sharegpt", f"stored-{i}" if with_hashes else None)
        for i, content in enumerate(contents)
    ]


@settings(max_examples=150, deadline=None)
@given(
    contents=st.lists(examples, max_size=8),
    settings_index=st.integers(0, len(SETTINGS) - 1),
    with_hashes=st.booleans(),
)
def test_it_gives_exactly_what_the_rule_modules_give(cl100k, contents, settings_index, with_hashes):
    items = as_items(contents, with_hashes)
    check_settings = SETTINGS[settings_index]
    assert list(scan_examples(items, check_settings, cl100k)) == reference(
        items, check_settings, cl100k
    )


def test_it_keeps_order_and_results_across_chunks(cl100k):
    clean = {
        "messages": [
            {"role": "user", "content": "What is the capital of France?"},
            {"role": "assistant", "content": "Paris is the capital of France."},
        ]
    }
    faulty = {"messages": [{"role": "user", "content": "Mail me at jane.doe@example.com"}]}
    contents = [
        faulty if i % 97 == 0 else {"messages": [dict(m) for m in clean["messages"]]}
        for i in range(2 * CHUNK_SIZE + 7)
    ]
    items = as_items(contents, with_hashes=False)
    results = list(scan_examples(items, CheckSettings(), cl100k))
    assert results == reference(items, CheckSettings(), cl100k)
    assert sum(1 for _, _, findings, _ in results if findings) == len(range(0, len(items), 97))


@settings(max_examples=40, deadline=None)
@given(contents=st.lists(examples, min_size=1, max_size=12))
def test_it_reports_what_the_rule_modules_report(cl100k, contents):
    items = as_items(contents, with_hashes=False)
    check_settings = CheckSettings(min_examples_error=2, style_min_answers=2)
    expected = reference(items, check_settings, cl100k)
    report = build_report(items, check_settings, encoding=cl100k)
    assert report.example_findings == {
        key: [replace(f, example_key=key) for f in findings]
        for key, _, findings, _ in expected
        if findings
    }
    assert report.dataset_findings == check_dataset(
        [s for _, tokens, _, s in expected if tokens is not None], check_settings
    )
    tokens = [t for _, t, _, _ in expected if t is not None]
    assert report.token_stats == token_stats(tokens, limit=check_settings.target_context_tokens)
