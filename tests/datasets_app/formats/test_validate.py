from hypothesis import given, settings
from hypothesis import strategies as st

from datasets_app.canonical import validate_content
from datasets_app.formats.validate import content_error, is_plainly_valid

from .strategies import conversations

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-2, 2)
    | st.floats(allow_nan=False)
    | st.sampled_from(["", "x", "user", "assistant", "function", "call_1"]),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(
                [
                    "role",
                    "content",
                    "name",
                    "weight",
                    "tool_calls",
                    "tool_call_id",
                    "id",
                    "type",
                    "function",
                    "arguments",
                ]
            ),
            inner,
            max_size=4,
        )
    ),
    max_leaves=12,
)


@settings(max_examples=300)
@given(st.lists(JSON, min_size=1, max_size=3), st.one_of(st.none(), st.lists(JSON, max_size=2)))
def test_it_never_passes_what_the_schema_refuses(messages, tools):
    content = {"messages": messages}
    if tools is not None:
        content["tools"] = tools
    if is_plainly_valid(content):
        assert validate_content(content) == []


@given(conversations())
def test_it_passes_generated_canonical_conversations(content):
    assert validate_content(content) == []
    assert is_plainly_valid(content)


def test_it_explains_invalid_content_with_a_path():
    error = content_error({"messages": [{"role": "user", "content": "x", "weight": 1}]}, 7)
    assert (error.line, error.code, error.path) == (7, "invalid_content", "messages[0].role")


def test_it_leaves_odd_but_valid_content_to_the_schema():
    content = {"messages": [{"role": "assistant", "content": "x", "weight": 1.0}]}
    assert not is_plainly_valid(content)
    assert content_error(content, 1) is None
