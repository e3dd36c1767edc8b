import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from evaluation.evaluators import Item, evaluator_build
from evaluation.evaluators.judge import (
    JUDGE_ERROR,
    pairwise_order,
    pairwise_parse,
    pairwise_prompt,
    pairwise_reason,
    position_bias,
)

ITEM = Item("What is 2+2?", "4", "It is 4.")


def judge(**params):
    return evaluator_build(
        {"type": "llm_judge", "params": {"rubric": "Correct and brief?", **params}}
    )


def test_it_builds_the_rubric_prompt():
    messages = judge().prompt(ITEM)
    assert [m["role"] for m in messages] == ["system", "user"]
    text = messages[1]["content"]
    for part in (
        "Correct and brief?",
        "What is 2+2?",
        "Reference answer:\n4",
        "It is 4.",
        '"score"',
    ):
        assert part in text
    assert "Reference answer" not in judge(show_reference=False).prompt(ITEM)[1]["content"]


@pytest.mark.parametrize(
    ("answer", "value", "passed"),
    [
        ('{"score": 5, "reason": "right"}', 1.0, True),
        ('  {"reason": "close", "score": 3}\n', 0.5, False),
        ('{"score": 1, "reason": ""}', 0.0, False),
    ],
)
def test_it_reads_a_json_verdict(answer, value, passed):
    score = judge().parse(answer)
    assert (score.value, score.passed) == (value, passed)


@pytest.mark.parametrize(
    "answer",
    [
        "The answer is good, I'd say 5.",
        '{"score": 6, "reason": "x"}',
        '{"score": 0, "reason": "x"}',
        '{"score": 4.5, "reason": "x"}',
        '{"score": "4", "reason": "x"}',
        '{"score": true, "reason": "x"}',
        '{"score": 4}',
        '{"score": 4, "reason": "x", "confidence": 1}',
        '{"score": 4, "reason": "x"} {"score": 1, "reason": "y"}',
        "Score: 4",
        "",
        None,
    ],
)
def test_it_marks_garbage_as_a_judge_error_never_zero(answer):
    score = judge().parse(answer)
    assert score.value is None and score.reason == JUDGE_ERROR and not score.passed


def test_it_reads_a_score_line_when_that_format_was_asked():
    line = judge(format="line")
    assert "Score: <integer from 1 to 5>" in line.prompt(ITEM)[1]["content"]
    assert line.parse("Score: 4\nMostly right.").detail == {"score": 4, "reason": "Mostly right."}
    assert line.parse("Score: 2").value == 0.25
    for garbage in ("score: 4", "I give it Score: 4", "Score: 4/5", '{"score": 4, "reason": "x"}'):
        assert line.parse(garbage).reason == JUDGE_ERROR


def test_it_maps_a_custom_scale():
    ten = judge(scale_min=0, scale_max=10, pass_score=7)
    assert ten.parse('{"score": 7, "reason": ""}').value == pytest.approx(0.7)
    assert ten.parse('{"score": 7, "reason": ""}').passed


def test_it_randomises_pairwise_order_reproducibly():
    keys = [f"item-{i}" for i in range(400)]
    orders = [pairwise_order(7, k) for k in keys]
    assert orders == [pairwise_order(7, k) for k in keys]  # the seed fixes it
    assert 150 < sum(orders) < 250  # both orders, about half each
    assert orders != [pairwise_order(8, k) for k in keys]


def test_it_maps_a_pairwise_verdict_back_to_the_runs():
    assert pairwise_parse('{"winner": "A", "reason": ""}', swapped=False) == "a"
    assert pairwise_parse('{"winner": "A", "reason": ""}', swapped=True) == "b"
    assert pairwise_parse('{"winner": "B", "reason": ""}', swapped=True) == "a"
    assert pairwise_parse('{"winner": "tie", "reason": ""}', swapped=True) == "tie"
    assert pairwise_parse('{"winner": "C", "reason": ""}', swapped=False) is None
    assert pairwise_parse("A is better", swapped=False) is None
    prompt = pairwise_prompt("q", "first", "second", rubric="r")[1]["content"]
    assert prompt.index("Answer A:\nfirst") < prompt.index("Answer B:\nsecond")


def test_it_reads_the_reason_of_an_accepted_verdict_only():
    assert pairwise_reason('{"winner": "tie", "reason": "Both add up."}') == "Both add up."
    assert pairwise_reason('{"winner": "A", "reason": 3}') == ""  # a verdict, not a reason
    assert pairwise_reason('{"winner": "C", "reason": "C wins"}') == ""
    assert pairwise_reason("A, because it is right") == ""
    assert pairwise_reason(None) == ""


@given(st.one_of(st.none(), st.text(max_size=200), st.builds(json.dumps, st.dictionaries(
    st.sampled_from(["winner", "reason", "score"]),
    st.one_of(st.sampled_from(["A", "B", "tie", "C"]), st.text(max_size=20), st.integers()),
))))  # fmt: skip
def test_it_never_reads_a_reason_where_it_reads_no_verdict(answer):
    reason = pairwise_reason(answer)
    assert isinstance(reason, str)
    if pairwise_parse(answer, swapped=False) is None:
        assert reason == ""


def test_it_reports_position_bias():
    # A judge that always says "A" picks the first-shown answer every time.
    judgments = [
        (pairwise_parse('{"winner": "A", "reason": ""}', swapped=s), s) for s in (True, False) * 5
    ]
    assert position_bias(judgments) == {"first_shown_wins": 10, "decisive": 10, "rate": 1.0}
    fair = [("a", False), ("a", True), ("tie", False), (None, True)]
    assert position_bias(fair) == {"first_shown_wins": 1, "decisive": 2, "rate": 0.5}
