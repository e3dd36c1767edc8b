from hypothesis import given
from hypothesis import strategies as st

from datasets_app.canonical import validate_content
from datasets_app.checks import check_example

STRUCTURE_RULES = {
    "example_not_object",
    "unrecognized_example_key",
    "messages_missing",
    "message_not_object",
    "message_missing_key",
    "message_unrecognized_key",
    "unrecognized_role",
    "missing_content",
    "missing_assistant_message",
    "invalid_weight",
    "invalid_tool_call",
}


def rules(content):
    return {f.rule_id for f in check_example(content)}


def test_it_rejects_non_objects_and_missing_messages():
    assert rules(["x"]) == {"example_not_object"}
    assert rules({}) == {"messages_missing"}
    assert rules({"messages": []}) == {"messages_missing"}
    assert "messages_missing" in rules({"messages": "hi"})


def test_it_reports_the_cookbook_message_errors_with_paths():
    findings = check_example(
        {
            "messages": [
                "hi",
                {"role": "user"},
                {"role": "robot", "content": "x", "extra": 1},
                {"role": "user", "content": ["part"]},
                {"role": "assistant", "content": None},
            ],
            "junk": True,
        }
    )
    by_rule = {(f.rule_id, f.path) for f in findings}
    assert ("message_not_object", "messages[0]") in by_rule
    assert ("message_missing_key", "messages[1]") in by_rule
    assert ("unrecognized_role", "messages[2].role") in by_rule
    assert ("message_unrecognized_key", "messages[2].extra") in by_rule
    assert ("missing_content", "messages[3].content") in by_rule
    assert ("missing_content", "messages[4].content") in by_rule
    assert ("unrecognized_example_key", "junk") in by_rule


def test_it_requires_an_assistant_message():
    assert "missing_assistant_message" in rules({"messages": [{"role": "user", "content": "hi"}]})


def test_it_checks_weight_values_and_roles():
    base = [{"role": "user", "content": "q"}]
    assert "invalid_weight" in rules(
        {"messages": base + [{"role": "assistant", "content": "a", "weight": 2}]}
    )
    assert "invalid_weight" in rules(
        {"messages": base + [{"role": "assistant", "content": "a", "weight": True}]}
    )
    assert "invalid_weight" in rules(
        {
            "messages": [
                {"role": "user", "content": "q", "weight": 1},
                {"role": "assistant", "content": "a"},
            ]
        }
    )
    assert "invalid_weight" not in rules(
        {"messages": base + [{"role": "assistant", "content": "a", "weight": 0}]}
    )


def test_it_checks_the_tool_call_shape():
    bad = {
        "messages": [
            {"role": "user", "content": "q"},
            {"role": "assistant", "content": None, "tool_calls": [{"id": 1}]},
        ]
    }
    assert "invalid_tool_call" in rules(bad)
    assert "invalid_tool_call" in rules(
        {
            "messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}],
            "tools": [{"type": "x"}],
        }
    )


text = st.text(min_size=1, max_size=30).filter(lambda s: s.strip())
plain = st.builds(
    lambda r, c: {"role": r, "content": c}, st.sampled_from(["system", "user", "assistant"]), text
)
call = st.builds(
    lambda i: {"id": f"c{i}", "type": "function", "function": {"name": "f", "arguments": "{}"}},
    st.integers(0, 9),
)
tool_turn = st.builds(lambda c: {"role": "assistant", "content": None, "tool_calls": [c]}, call)
weighted = st.builds(
    lambda c, w: {"role": "assistant", "content": c, "weight": w}, text, st.sampled_from([0, 1])
)
tool_result = st.builds(
    lambda c, i: {"role": "tool", "content": c, "tool_call_id": f"c{i}"}, text, st.integers(0, 9)
)


@given(st.lists(st.one_of(plain, tool_turn, weighted, tool_result), min_size=1, max_size=8))
def test_it_never_reports_structure_errors_on_canonical_content(messages):
    content = {"messages": messages}
    assert validate_content(content) == []
    found = rules(content) & STRUCTURE_RULES
    has_assistant = any(m["role"] == "assistant" for m in messages)
    assert found == (set() if has_assistant else {"missing_assistant_message"})
