import hashlib
import json

from hypothesis import given
from hypothesis import strategies as st

from datasets_app import canonical

GOOD = {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}]}


def paths(content):
    return [e.path for e in canonical.validate_content(content)]


def test_it_accepts_a_plain_chat():
    assert canonical.validate_content(GOOD) == []


def test_it_accepts_tool_calls_with_null_content():
    content = {
        "messages": [
            {"role": "user", "content": "Weather?"},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {"id": "c1", "type": "function", "function": {"name": "w", "arguments": "{}"}}
                ],
            },
            {"role": "tool", "tool_call_id": "c1", "content": "sunny"},
            {"role": "assistant", "content": "Sunny.", "weight": 1},
        ],
        "tools": [
            {"type": "function", "function": {"name": "w", "parameters": {"type": "object"}}}
        ],
    }
    assert canonical.validate_content(content) == []


def test_it_names_the_path_of_each_problem():
    content = {"messages": [{"role": "robot", "content": "x"}, {"role": "user"}, "nope"]}
    errors = canonical.validate_content(content)
    assert [e.path for e in errors] == ["messages[0].role", "messages[1]", "messages[2]"]
    assert "must be one of" in errors[0].message
    assert "content" in errors[1].message


def test_it_rejects_an_empty_message_list_and_missing_messages():
    assert paths({"messages": []}) == ["messages"]
    assert paths({}) == ["$"]


def test_it_rejects_weight_on_a_user_turn_and_bad_weight_values():
    assert paths({"messages": [{"role": "user", "content": "x", "weight": 1}]}) == [
        "messages[0].role"
    ]
    assert paths({"messages": [{"role": "assistant", "content": "x", "weight": 2}]}) == [
        "messages[0].weight"
    ]


def test_it_rejects_null_content_without_tool_calls():
    assert "messages[0]" in paths({"messages": [{"role": "assistant", "content": None}]})


def test_it_rejects_unknown_keys_and_bad_metadata_keys():
    errors = canonical.validate_content(
        {**GOOD, "metadata": {"ok_key": 1, "bad key!": 2}, "extra": 1}
    )
    assert [e.path for e in errors] == ["$", "metadata"]


def test_it_hashes_sorted_compact_utf8_json():
    messages = [{"role": "user", "content": "héllo"}]
    expected = hashlib.sha256(
        json.dumps(
            {"messages": messages}, sort_keys=True, separators=(",", ":"), ensure_ascii=False
        ).encode()
    ).hexdigest()
    assert canonical.content_hash(messages) == expected


def test_it_treats_empty_tools_like_no_tools():
    assert canonical.content_hash(GOOD["messages"], []) == canonical.content_hash(
        GOOD["messages"], None
    )


def test_it_hashes_versions_independent_of_order():
    a = [("train", "h1"), ("test", "h2")]
    assert canonical.version_hash(a) == canonical.version_hash(list(reversed(a)))
    assert canonical.version_hash(a) != canonical.version_hash([("train", "h2"), ("test", "h1")])
    expected = hashlib.sha256(b"test\th2\ntrain\th1\n").hexdigest()
    assert canonical.version_hash(a) == expected


text = st.text(st.characters(exclude_categories=("Cs",)), max_size=40)
message = st.fixed_dictionaries(
    {"role": st.sampled_from(["system", "user", "assistant"]), "content": text}
)


@given(st.lists(message, min_size=1, max_size=6))
def test_it_hashes_equal_content_equally_whatever_the_key_order(messages):
    reordered = [dict(reversed(list(m.items()))) for m in messages]
    assert canonical.content_hash(messages) == canonical.content_hash(reordered)
    assert canonical.validate_content({"messages": messages}) == []


@given(st.lists(message, min_size=1, max_size=4), text)
def test_it_changes_the_hash_when_any_content_changes(messages, suffix):
    changed = [dict(m) for m in messages]
    changed[-1]["content"] = changed[-1]["content"] + suffix + "x"
    assert canonical.content_hash(messages) != canonical.content_hash(changed)


def test_it_refuses_integers_beyond_64_bits_anywhere():
    content = {**GOOD, "metadata": {"n": 2**64, "ok": 2**63 - 1}}
    errors = canonical.validate_content(content)
    assert [(e.path, "64 bits" in e.message) for e in errors] == [("metadata.n", True)]


def test_it_refuses_a_metadata_key_with_a_trailing_newline():
    assert paths({**GOOD, "metadata": {"key\n": 1}}) == ["metadata"]
