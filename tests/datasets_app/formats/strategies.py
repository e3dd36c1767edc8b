"""Hypothesis strategies for canonical conversations, shared by the export and validation tests."""

from hypothesis import strategies as st

TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=40
) | st.sampled_from(["", 'say "hi"\nnow', "emoji 🎉👍🏽", "tab\tand\\backslash", "ünïcødé — 中文"])
NAME = st.from_regex(r"[a-z_]{1,12}", fullmatch=True)


@st.composite
def tool_round(draw, index: int):
    count = draw(st.integers(1, 2))
    calls = [
        {
            "id": draw(st.sampled_from([f"call_{index + k}", f"call_x{index + k}"])),
            "type": "function",
            "function": {
                "name": draw(NAME),
                "arguments": draw(st.sampled_from(['{"a":1}', '{"q": "x y"}', "{}"])),
            },
        }
        for k in range(count)
    ]
    results = [{"role": "tool", "content": draw(TEXT), "tool_call_id": c["id"]} for c in calls]
    return [{"role": "assistant", "content": None, "tool_calls": calls}, *results]


@st.composite
def conversations(draw, tools: bool = True, extras: bool = True):
    messages = []
    if draw(st.booleans()):
        messages.append({"role": "system", "content": draw(TEXT)})
    calls = 0
    for _ in range(draw(st.integers(1, 3))):
        messages.append({"role": "user", "content": draw(TEXT)})
        if tools and draw(st.booleans()):
            block = draw(tool_round(calls))
            calls += len(block[0]["tool_calls"])
            messages += block
        answer = {"role": "assistant", "content": draw(TEXT)}
        if extras and draw(st.booleans()):
            answer["weight"] = draw(st.sampled_from([0, 1]))
        if extras and draw(st.booleans()):
            answer["name"] = draw(NAME)
        messages.append(answer)
    content = {"messages": messages}
    if tools and draw(st.booleans()):
        content["tools"] = [
            {"type": "function", "function": {"name": draw(NAME), "parameters": {"type": "object"}}}
        ]
    if draw(st.booleans()):
        content["metadata"] = {"source": draw(TEXT), "n": draw(st.integers(0, 9))}
    return content
