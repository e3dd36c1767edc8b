"""capture.entries: one log entry → a row, or every problem by JSON path."""

import pytest
from hypothesis import given, settings
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


# The fast path (capture.entries._plain_row) against the full check it stands in for: entries
# of the common shape, then one to three changes each, some of which make them invalid.
TEXT = st.text(max_size=30)
PLAIN = st.fixed_dictionaries(
    {
        "messages": st.lists(
            st.fixed_dictionaries(
                {"role": st.sampled_from(["system", "user", "assistant"]), "content": TEXT}
            ),
            min_size=1,
            max_size=3,
        ),
        "response": st.fixed_dictionaries({"role": st.just("assistant"), "content": TEXT}),
        "model": st.text(min_size=1, max_size=12),
    },
    optional={
        "tags": st.lists(st.sampled_from(["prod", "eu", "prod", "a b"]), max_size=4),
        "metadata": st.dictionaries(
            st.sampled_from(["customer", "region", "n"]),
            st.integers(-(2**63), 2**63 - 1) | TEXT,
            max_size=3,
        ),
        "latency_ms": st.integers(0, 5000),
        "usage": st.fixed_dictionaries(
            {}, optional={k: st.integers(0, 500) for k in ("prompt_tokens", "total_tokens")}
        ),
        "trace_id": st.text(max_size=8),
    },
)
DELETE = object()
# per place, values just inside and just outside what it accepts (DELETE: the key removed)
EDGES = {
    "messages": [DELETE, [], None, [{"role": "user"}]],
    "response": [DELETE, None, "hi", {"role": "assistant"}],
    "model": [DELETE, None, "", "m" * 200, "m" * 201, 3],
    "tags": [DELETE, None, [], ["x" * 64], ["x" * 65], [" a"], ["a,b"], [3], ["t"] * 33],
    "metadata": [DELETE, None, [], {"ok": {"x": "y" * 17_000}}, {"bad key": 1}, {"n": [1]}],
    "latency_ms": [DELETE, None, -1, 0, 2**31 - 1, 2**31, True, 1.5],
    "usage": [DELETE, None, {}, {"other": 1}, {"total_tokens": -1}, [], {"total_tokens": None}],
    "trace_id": [DELETE, None, "", "t" * 128, "t" * 129, 7],
    "tools": [None, [], [{"type": "function", "function": {"name": "f"}}], "x"],
    "error": [None, {"message": "boom"}, {"type": "x"}],
    "timestamp": [None, "2026-12-06T21:30:00Z", "2026-12-06T21:30:00", "soon"],
    "unknown": [1],
    "response.role": ["user", None, DELETE],
    "response.content": [None, "", 3, DELETE],
    "response.name": ["bot"],
    "response.choices": [[], [{"message": {"role": "assistant", "content": "x"}}]],
    "response.object": ["chat.completion", "other"],
    "messages.0.role": ["tool", "robot", None, DELETE],
    "messages.0.content": [None, 3, DELETE],
    "messages.0.extra": [1],
    "usage.prompt_tokens": [-1, True, None, 2**31],
    "usage.other": [1],
    "metadata.bad key": [1],
}
CHANGES = st.lists(
    st.sampled_from(sorted(EDGES)).flatmap(
        lambda where: st.tuples(st.just(where), st.sampled_from(EDGES[where]))
    ),
    max_size=3,
)


def changed(entry, changes):
    import copy

    raw = copy.deepcopy(entry)
    for where, value in changes:
        *parents, last = where.split(".")
        node = raw
        for name in parents:
            node = node.get(name) if isinstance(node, dict) else None
            if isinstance(node, list):
                node = node[0] if node and name == "messages" else None
        if not isinstance(node, dict):
            continue
        if value is DELETE:
            node.pop(last, None)
        else:
            node[last] = copy.deepcopy(value)
    return raw


@settings(max_examples=400, deadline=None)
@given(PLAIN, CHANGES, st.booleans())
def test_it_takes_the_fast_path_only_where_the_full_check_agrees(entry, changes, redact):
    from capture.entries import _entry_parse_checked, _plain_row

    assert _plain_row(entry) is not None  # the common shape does take the fast path
    assert entry_parse(entry, redact=redact) == _entry_parse_checked(entry, redact=redact)
    raw = changed(entry, changes)
    assert entry_parse(raw, redact=redact) == _entry_parse_checked(raw, redact=redact)


COMMON = {
    "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}],
    "response": {"role": "assistant", "content": "Hello"},
    "model": "m1",
    "tags": ["prod", "eu"],
    "metadata": {"customer": "c1"},
    "latency_ms": 10,
    "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4},
    "trace_id": "t1",
}


@pytest.mark.parametrize(
    ("where", "value"), [(w, v) for w, values in EDGES.items() for v in values]
)
def test_it_agrees_with_the_full_check_at_every_edge(where, value):
    from capture.entries import _entry_parse_checked

    raw = changed(COMMON, [(where, value)])
    assert entry_parse(raw) == _entry_parse_checked(raw)
