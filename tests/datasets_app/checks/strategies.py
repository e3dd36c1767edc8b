"""Hypothesis strategies for examples that trip every rule, and examples that trip none."""

from hypothesis import strategies as st

# Pieces that trip (or nearly trip) each content rule and screen, plus plain prose.
FRAGMENTS = [
    "Hello world.",
    "The answer is four",
    " ",
    "\n",
    "\t",
    "\x0b",
    "\x1c",
    "THIS IS LOUD TEXT, VERY LOUD",
    "SELECT ID FROM USERS;",
    "{name}",
    "{{ user }}",
    "{x}",
    "${abc}",
    "/{path}",
    "def f(x): return x",
    "<noinput>",
    "< no output >",
    "<NO INPUT>",
    "[Your Name]",
    "[INSERT DATE here]",
    "https://example.org/x",
    "www.example.com",
    "ftp://host",
    "jane.doe@example.com",
    "a@b",
    "(415) 555-0134",
    "+44 20 7946 0958",
    "555-123-4567",
    "12345678",
    "sk-proj-abcdefghijklmnopqrstuvwxyz123456",
    "AKIAIOSFODNN7EXAMPLE",
    "ghp_" + "aB3" * 12,
    "xoxb-1234567890abc",
    "-----BEGIN RSA PRIVATE KEY-----",
    'api_key = "Zt8QpL2mX9vR4kW7bN1c"',
    "token: Zt8QpL2mX9vR4kW7bN1cQ",
    "Password\x0b=\x1cAb3dEf6hIj9kLm2nOp",
    'password = "Xy9$kP2!qLm4"',
    "ghp_rUZoL8g5ubbbPIa84yRnBUbHoWC8FJowoRoW",
    "AIzac5bJFIoxSLivuGvIL6P-8odNXR1yHnGA3cC",
    "postgres://app:DdnGt9mZxal2gB@db.internal/app",
    "Authorization: Bearer W51goGrrTpAjiqmAJOM59dI1MGj8ArrEStrFnF",
    "Painters of the Italian Renaissance worked for rich patrons and for the church. Many famou",
    "Here is the code for the task you asked about, written in Python.\n```python\nprint(1)",
    "\x07",
    "\x7f",
    "\x85",
    "é",
    "e\u0301",
    "\u200b",
    "\ufffd",
    "ß",
    "\u212a",
    "N/A",
    "ok",
    "42",
    "**bold**",
    "# Heading",
    "- item",
    "1. first",
    "> quote",
    "```",
    "| a | b |",
    "!",
    ".",
]

texts = st.one_of(
    st.lists(st.sampled_from(FRAGMENTS), max_size=6).map("".join),
    st.text(max_size=12),
)
# Near misses: they look like what the screens look for but trip no rule on their own.
BENIGN = [
    "Plain words here. ",
    "Some more prose, with a comma; and digits 12345678. ",
    "Code: def f(x): return {x} ",
    "See a@b or www dot com. ",
    "Call 555 0134 maybe. ",
    "token: short ",
    "My key is in the lock. ",
    "<b>bold</b> and [a link] ",
    "Mixed Case Words Here And There. ",
    "\n- a list item\n",
    "Café au lait. ",
    "The painters of the Renaissance worked for patrons. They painted the church and the ",
    "process.env.SESSION_SECRET and ConvertTo-SecureString ",
]
# Texts a clean conversation may hold: non-blank, no surrounding whitespace; mostly benign.
clean_texts = st.one_of(
    st.lists(st.sampled_from(BENIGN), min_size=1, max_size=4),
    st.lists(st.sampled_from(BENIGN), min_size=1, max_size=4),
    st.lists(st.sampled_from(BENIGN), min_size=1, max_size=4),
    st.lists(st.sampled_from(BENIGN + FRAGMENTS), min_size=1, max_size=4),
).map(lambda parts: "".join(parts).strip() or "Plain words here.")

_tool_calls = st.lists(
    st.fixed_dictionaries(
        {
            "id": st.sampled_from(["c1", "c2"]),
            "type": st.sampled_from(["function", "other"]),
            "function": st.fixed_dictionaries(
                {
                    "name": st.sampled_from(["lookup", "add"]),
                    "arguments": st.sampled_from(['{"a": 1}', "[1]", "not json"]),
                }
            ),
        }
    ),
    max_size=2,
)
messy_messages = st.fixed_dictionaries(
    {
        "role": st.sampled_from(["system", "user", "assistant", "tool", "bot"]),
        "content": st.one_of(texts, st.none(), st.integers(-1000, 1000)),
    },
    optional={
        "name": st.sampled_from(["bob", "x"]),
        "weight": st.sampled_from([0, 1, 2, True]),
        "tool_calls": _tool_calls,
        "tool_call_id": st.sampled_from(["c1", "c9", 3]),
        "extra": st.just(1),
    },
)
messy_examples = st.one_of(
    st.fixed_dictionaries(
        {"messages": st.lists(st.one_of(messy_messages, st.integers(-9, 9)), max_size=5)},
        optional={
            "tools": st.just([{"type": "function", "function": {"name": "lookup"}}]),
            "metadata": st.just({"source": "x"}),
            "junk": st.just(1),
        },
    ),
    st.sampled_from([None, [], "text", {"messages": []}, {"messages": "x"}]),
)


@st.composite
def clean_examples(draw):
    """Well-formed conversations (system?, then user/assistant turns); their texts may still
    trip content rules, and sometimes one turn is out of order."""
    messages = []
    if draw(st.booleans()):
        messages.append({"role": "system", "content": draw(clean_texts)})
    for _ in range(draw(st.integers(1, 3))):
        messages.append({"role": "user", "content": draw(clean_texts)})
        answer = {"role": "assistant", "content": draw(clean_texts)}
        if draw(st.integers(0, 9)) == 0:
            answer["name"] = "helper"
        messages.append(answer)
    if draw(st.integers(0, 9)) == 0:
        messages.insert(draw(st.integers(0, len(messages))), draw(messy_messages))
    content = {"messages": messages}
    if draw(st.booleans()):
        content["metadata"] = {"source": "x"}
    return content


examples = st.one_of(clean_examples(), clean_examples(), messy_examples)
