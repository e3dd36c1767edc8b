from datasets_app.checks import check_example


def findings(messages, tools=None):
    content = {"messages": messages}
    if tools is not None:
        content["tools"] = tools
    return {(f.rule_id, f.path) for f in check_example(content)}


def u(text="question?"):
    return {"role": "user", "content": text}


def a(text="An answer."):
    return {"role": "assistant", "content": text}


def call(call_id="c1", name="lookup", arguments='{"q": "x"}'):
    return {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}
        ],
    }


TOOLS = [
    {"type": "function", "function": {"name": "lookup"}},
    {"type": "function", "function": {"name": "spare"}},
]


def test_it_accepts_a_clean_conversation():
    assert findings([{"role": "system", "content": "Be brief."}, u(), a(), u(), a()]) == set()


def test_it_flags_roles_out_of_order():
    assert ("consecutive_same_role", "messages[1].role") in findings([u(), u(), a()])
    assert ("assistant_before_user", "messages[0]") in findings([a(), u(), a()])
    assert ("system_not_first", "messages[2]") in findings(
        [u(), a(), {"role": "system", "content": "Late."}, u(), a()]
    )


def test_it_flags_a_conversation_that_does_not_end_on_the_assistant():
    assert ("not_ending_with_assistant", "messages[2]") in findings([u(), a(), u()])


def test_it_checks_tool_calls_against_results_and_declarations():
    good = [u(), call(), {"role": "tool", "content": "42", "tool_call_id": "c1"}, a()]
    assert findings(good, TOOLS) == {("tool_never_used", "tools[1].function.name")}
    orphan = [u(), call(), {"role": "tool", "content": "42", "tool_call_id": "zz"}, a()]
    assert ("orphan_tool_message", "messages[2].tool_call_id") in findings(orphan, TOOLS)
    undeclared = findings(
        [u(), call(name="other"), {"role": "tool", "content": "1", "tool_call_id": "c1"}, a()],
        TOOLS,
    )
    assert ("tool_not_declared", "messages[1].tool_calls[0].function.name") in undeclared


def test_it_requires_tool_arguments_to_be_a_json_object():
    path = "messages[1].tool_calls[0].function.arguments"
    for arguments in ("{not json", "[1, 2]"):
        result = findings(
            [
                u(),
                call(arguments=arguments),
                {"role": "tool", "content": "1", "tool_call_id": "c1"},
                a(),
            ],
            TOOLS[:1],
        )
        assert ("tool_arguments_not_json", path) in result


def test_it_points_out_partly_set_weights():
    result = findings([u(), {"role": "assistant", "content": "One.", "weight": 0}, u(), a()])
    assert ("weight_partially_set", "messages") in result
