"""The version diff reads like a report (issue 16.8): statistics in words, rounded, with
deltas, each figure once; turns numbered as the editor numbers them."""

import re

import pytest

from datasets_app.services.versions.stats import check_rows, statistics_rows

from .conftest import chat


def _stats(n, mean, by_split):
    distribution = {"count": n, "min": 1, "max": 9, "mean": mean, "median": 4.0, "p5": 1.0}
    return {
        "examples": sum(by_split.values()),
        "by_status": {"draft": n},
        "by_split": by_split,
        "report": {
            "dataset": 7,
            "n_examples": n,
            "token_stats": {
                "n_examples": n,
                "messages": {**distribution, "mean": 2.0 + n},
                "n_messages": {**distribution, "mean": 2.0 + n},
                "assistant_tokens": {**distribution, "mean": mean},
                "epochs": 3 + n,
                "default_epochs": 3 + n,
                "billable_tokens": 1000 * n,
            },
        },
    }


def test_it_labels_rounds_and_shows_each_figure_once():
    rows = statistics_rows(
        old_counts={"train": 8, "test": 2},
        new_counts={"train": 10, "test": 2},
        old_stats=_stats(10, 41.333333333, {"train": 8, "test": 2}),
        new_stats=_stats(12, 52.5, {"train": 10, "test": 2}),
    )
    labels = [row["label"] for row in rows]
    assert len(labels) == len(set(labels)), labels
    assert not any("." in label and "_" in label for label in labels)
    by_label = {row["label"]: row for row in rows}
    assert (
        by_label["Assistant tokens, mean"]["old"],
        by_label["Assistant tokens, mean"]["new"],
        by_label["Assistant tokens, mean"]["change"],
    ) == ("41.3", "52.5", "+11.2 (+27%)")
    assert by_label["Examples in Train"]["change"] == "+2 (+25%)"
    assert by_label["Billable tokens"]["new"] == "12,000"
    assert labels.count("Messages per example, mean") == 1
    assert labels.count("Default epochs") == 1
    assert "Examples in Test" not in by_label  # unchanged
    assert not any("7" == row["old"] for row in rows)  # the dataset id is no statistic


def test_it_words_negative_and_fractional_deltas():
    rows = statistics_rows(
        old_counts={},
        new_counts={},
        old_stats={"report": {"token_stats": {"total_tokens": {"mean": 500.0}}}},
        new_stats={"report": {"token_stats": {"total_tokens": {"mean": 483.0}}}},
    )
    assert [(r["label"], r["change"]) for r in rows] == [
        ("Tokens per example, mean", "-17 (-3.4%)")
    ]


def test_check_rows_name_the_rule_and_put_errors_first():
    old = {"by_rule": {"long": {"severity": "warning", "count": 1}}}
    new = {"by_rule": {"empty_content": {"severity": "error", "count": 3}}}
    rows = check_rows(old, new)
    assert [(r["rule_id"], r["change"]) for r in rows] == [
        ("empty_content", "+3"),
        ("long", "-1 (-100%)"),
    ]
    assert rows[0]["title"] != "empty_content"


@pytest.fixture
def logged_in(client, owner):
    client.force_login(owner)
    return client


def test_the_diff_page_shows_words_and_numbers_turns_like_the_editor(
    logged_in, dataset, owner, make_example, freeze, edit
):
    example = make_example(dataset, owner, chat("What is 2+2?", "4"), split="train")
    make_example(dataset, owner, chat("Capital of France?", "Paris"), split="train")
    v1 = freeze(dataset)
    edit(example, messages=chat("What is 2+2?", "four, exactly four"))
    make_example(dataset, owner, chat("Added question", "Added answer"), split="test")
    v2 = freeze(dataset)

    page = logged_in.get(f"/versions/{v2.pk}/diff/?against={v1.pk}").content.decode()
    assert "report." not in page and "token_stats" not in page and "by_split" not in page
    assert "Examples in Test" in page
    rows = re.findall(r"<tr><td>([^<]+)</td>", page)
    assert len(rows) == len(set(rows)), rows
    # the changed assistant answer is the editor's "Turn 2"
    assert "Turn 2 · assistant · changed" in page
    editor = logged_in.get(f"/examples/{example.pk}/edit/").content.decode()
    assert re.search(r'for="t-1-role"[^>]*>Turn 2 role<', editor)
    assert "turn 1 → 1" not in page.lower()
