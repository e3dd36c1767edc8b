"""The overview's check table never hides the blocker (issue 16.7): every error-level rule is
listed first, then warnings by frequency up to the cap, then an "and N more" link."""

import re

import pytest

from datasets_app.checks import RULES
from datasets_app.models import CheckResult
from datasets_app.services.checks import rules_for_summary

WARNINGS = [rule_id for rule_id, rule in RULES.items() if rule.severity == "warning"][:10]


@pytest.fixture
def logged_in(client, owner):
    client.force_login(owner)
    return client


def _flag(dataset, examples, rule_id, severity, n):
    CheckResult.objects.bulk_create(
        CheckResult(dataset=dataset, example=e, rule_id=rule_id, severity=severity, message="m")
        for e in examples[:n]
    )


def test_a_rare_error_is_shown_first_among_many_frequent_warnings(
    logged_in, dataset, owner, make_example
):
    examples = [make_example(dataset, owner) for _ in range(12)]
    CheckResult.objects.filter(dataset=dataset).delete()  # only the findings below
    for i, rule_id in enumerate(WARNINGS):
        _flag(dataset, examples, rule_id, "warning", 12 - i)  # 12, 11, … findings
    _flag(dataset, examples, "empty_content", "error", 1)

    page = logged_in.get(f"/datasets/{dataset.pk}/overview/").content.decode()
    table = page.split("<h2>Checks</h2>", 1)[1].split("</table>", 1)[0]
    titles = [t.strip() for t in re.findall(r"<tr[^>]*><td>([^<]+)", table)]
    assert titles[0] == RULES["empty_content"].title
    assert "blocks freezing" in table.split("</tr>", 2)[1]
    assert len(titles) == 8
    # the most frequent warnings fill the rest, in order
    assert titles[1:] == [RULES[r].title for r in WARNINGS[:7]]
    assert f'href="/datasets/{dataset.pk}/checks/">and 3 more checks</a>' in page


def test_every_error_is_shown_even_past_the_cap():
    rules = [{"id": f"e{i}", "severity": "error", "count": 1} for i in range(10)]
    rules += [{"id": "w", "severity": "warning", "count": 1000}]
    shown, more = rules_for_summary(rules, cap=8)
    assert [r["id"] for r in shown] == [f"e{i}" for i in range(10)]
    assert more == 1


def test_rules_without_findings_are_neither_shown_nor_counted():
    rules = [
        {"id": "a", "severity": "error", "count": 0},
        {"id": "b", "severity": "info", "count": 3},
        {"id": "c", "severity": "warning", "count": 2},
    ]
    shown, more = rules_for_summary(rules, cap=8)
    assert [r["id"] for r in shown] == ["c", "b"] and more == 0
