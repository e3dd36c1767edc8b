"""capture.entries: one log entry → a row, or every problem by JSON path."""

from hypothesis import given
from hypothesis import strategies as st

from capture.entries import entry_parse
from datasets_app.canonical import content_hash

ASK = [{"role": "user", "content": "What is 2+2?"}]
ANSWER = {"role": "assistant", "content": "4"}


def paths(raw):
    row, errors = entry_parse(raw)
    assert row is None
    return {e.path for e in errors}


def test_it_turns_a_complete_entry_into_a_row():
    row, errors = entry_parse(
        {
            "messages": ASK,
            "response": ANSWER,
            "model": "gpt-4o-mini",
            "tags": ["prod", "math", "prod"],
            "metadata": {"user_id": "u1"},
            "latency_ms": 412,
            "usage": {"prompt_tokens": 8, "completion_tokens": 1, "total_tokens": 9},
            "trace_id": "t-1",
            "timestamp": "2026-12-06T21:30:00Z",
        }
    )
    assert errors == []
    assert row["tags"] == ["prod", "math"]
    assert row["total_tokens"] == 9
    assert row["client_timestamp"].isoformat() == "2026-12-06T21:30:00+00:00"
    assert row["content_hash"] == content_hash(ASK + [ANSWER])


def test_it_reads_a_whole_chat_completion_object():
    completion = {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "model": "gpt-4o-mini-2024-07-18",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "4", "refusal": None},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 8, "completion_tokens": 1, "total_tokens": 9},
    }
    row, errors = entry_parse({"messages": ASK, "response": completion})
    assert errors == []
    assert row["response"] == ANSWER
    assert row["model"] == "gpt-4o-mini-2024-07-18"
    assert row["prompt_tokens"] == 8


def test_it_names_the_json_path_of_a_bad_message():
    bad = {
        "messages": [ASK[0], {"role": "robot", "content": "x"}],
        "response": ANSWER,
        "model": "m",
    }
    assert paths(bad) == {"messages[1].role"}


def test_it_refuses_a_response_that_is_not_the_assistant():
    assert "response.role" in paths(
        {"messages": ASK, "response": {"role": "user", "content": "x"}, "model": "m"}
    )


def test_it_refuses_unknown_fields_and_missing_model_and_response():
    assert paths({"messages": ASK, "colour": "red"}) == {"colour", "model", "response"}


def test_it_accepts_a_failed_call_with_its_error_and_no_response():
    row, errors = entry_parse(
        {
            "messages": ASK,
            "model": "m",
            "error": {"message": "upstream timed out", "type": "timeout"},
        }
    )
    assert errors == [] and row["response"] is None


def test_it_bounds_metadata_tags_counts_and_times():
    assert paths(
        {
            "messages": ASK,
            "response": ANSWER,
            "model": "m",
            "metadata": {"bad key": 1},
            "tags": ["ok", "a,b"],
            "latency_ms": -1,
            "usage": {"prompt_tokens": "8"},
            "timestamp": "yesterday",
        }
    ) == {"metadata", "tags[1]", "latency_ms", "usage.prompt_tokens", "timestamp"}
    assert paths(
        {"messages": ASK, "response": ANSWER, "model": "m", "metadata": {"k": "x" * 20_000}}
    ) == {"metadata"}


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=5),
        lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=8), c, max_size=4),
        max_leaves=12,
    )
)
def test_it_never_raises_and_never_returns_both_a_row_and_errors(raw):
    row, errors = entry_parse(raw)
    assert (row is None) != (errors == [])
