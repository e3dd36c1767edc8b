from hypothesis import given
from hypothesis import strategies as st

from datasets_app.dedup.text import (
    exact_groups,
    exact_key,
    example_exact_key,
    example_text,
    jaccard,
    normalize_text,
    shingles,
)


def test_it_normalizes_width_case_and_whitespace():
    assert normalize_text("  Ｈｅｌｌｏ\t\tWORLD\n\u00a0ﬁne  ") == "hello world fine"
    assert normalize_text("Straße") == normalize_text("STRASSE")


@given(st.text())
def test_it_normalizes_idempotently(text):
    once = normalize_text(text)
    assert normalize_text(once) == once
    assert once == once.strip()
    assert "  " not in once


def test_it_gives_an_alpaca_row_and_a_chat_row_the_same_key(alpaca_rows, chat_rows):
    assert example_exact_key(alpaca_rows[0]) == example_exact_key(chat_rows[0])
    assert example_exact_key(alpaca_rows[0]) != example_exact_key(alpaca_rows[1])


def test_it_ignores_names_weights_and_roles_of_the_same_text():
    plain = [{"role": "user", "content": "Hi there"}, {"role": "assistant", "content": "Hello"}]
    decorated = [
        {"role": "user", "content": "Hi there", "name": "bob"},
        {"role": "assistant", "content": "Hello", "weight": 0},
    ]
    assert example_exact_key(plain) == example_exact_key(decorated)


def test_it_selects_prompt_and_response_sides():
    messages = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Weather?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "c1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city": "Oslo"}'},
                }
            ],
        },
        {"role": "tool", "content": "rain", "tool_call_id": "c1"},
        {"role": "assistant", "content": "It rains."},
    ]
    assert example_text(messages, "prompt") == "be brief. weather? rain"
    assert example_text(messages, "response") == 'get_weather {"city": "oslo"} it rains.'
    assert (
        example_text(messages) == 'be brief. weather? get_weather {"city": "oslo"} rain it rains.'
    )


def test_it_tells_apart_examples_that_call_different_tools():
    def call(name):
        function = {"name": name, "arguments": "{}"}
        return [
            {"role": "user", "content": "Go"},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [{"id": "1", "type": "function", "function": function}],
            },
        ]

    assert example_exact_key(call("a"), "response") != example_exact_key(call("b"), "response")


def test_it_rejects_unknown_fields():
    try:
        example_text([{"role": "user", "content": "x"}], "metadata")
    except ValueError as error:
        assert "metadata" in str(error)
    else:
        raise AssertionError("no error")


def test_it_shingles_word_five_grams_and_short_texts_whole():
    assert shingles("a b c d e f") == {("a", "b", "c", "d", "e"), ("b", "c", "d", "e", "f")}
    assert shingles("a b c") == {("a", "b", "c")}
    assert shingles("") == set()
    assert jaccard(shingles("a b c"), shingles("a b c d e")) == 0.0


def test_it_computes_jaccard():
    assert jaccard({1, 2, 3}, {2, 3, 4}) == 0.5
    assert jaccard(set(), set()) == 1.0


def test_it_groups_members_with_equal_keys(alpaca_rows):
    keys = {i: exact_key(example_text(m)) for i, m in enumerate(alpaca_rows)}
    assert exact_groups(keys) == [[0, 3]]
