import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from training.recipe.data import (
    DROP_NOTHING_TO_LEARN,
    DROP_TOO_LONG,
    IGNORE,
    OverlengthError,
    encode,
    encode_records,
    preview,
)

CONVERSATION = {
    "messages": [
        {"role": "system", "content": "S"},
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Yo", "weight": 0},
        {"role": "user", "content": "Again"},
        {"role": "assistant", "content": "Hello"},
    ]
}

# Worked by hand from SmolLM2's ChatML template: only the weight-1 answer and its <|im_end|> learn.
EXPECTED = [
    ("<|im_start|>", False), ("system", False), ("Ċ", False), ("S", False), ("<|im_end|>", False), ("Ċ", False),
    ("<|im_start|>", False), ("user", False), ("Ċ", False), ("Hi", False), ("<|im_end|>", False), ("Ċ", False),
    ("<|im_start|>", False), ("ass", False), ("istant", False), ("Ċ", False),
    ("Y", False), ("o", False), ("<|im_end|>", False), ("Ċ", False),
    ("<|im_start|>", False), ("user", False), ("Ċ", False), ("Again", False), ("<|im_end|>", False), ("Ċ", False),
    ("<|im_start|>", False), ("ass", False), ("istant", False), ("Ċ", False),
    ("Hello", True), ("<|im_end|>", True), ("Ċ", False),
]  # fmt: skip


def test_it_labels_only_weighted_assistant_tokens_and_their_end_of_turn(tokenizer):
    ex = encode(CONVERSATION, tokenizer)
    tokens = tokenizer.convert_ids_to_tokens(ex.input_ids)
    assert list(zip(tokens, [label != IGNORE for label in ex.labels], strict=True)) == EXPECTED
    assert all(
        label in (IGNORE, token) for label, token in zip(ex.labels, ex.input_ids, strict=True)
    )
    assert ex.trained_tokens == 2


def test_it_trains_the_weight_zero_turn_once_its_weight_is_one(tokenizer):
    messages = [dict(m) for m in CONVERSATION["messages"]]
    messages[2]["weight"] = 1
    ex = encode({"messages": messages}, tokenizer)
    trained = [
        t
        for t, label in zip(tokenizer.convert_ids_to_tokens(ex.input_ids), ex.labels, strict=True)
        if label != IGNORE
    ]
    assert trained == ["Y", "o", "<|im_end|>", "Hello", "<|im_end|>"]


def test_it_trains_tool_calls_as_text_when_the_template_has_no_tool_syntax(tokenizer):
    record = {
        "messages": [
            {"role": "user", "content": "weather?"},
            {"role": "assistant", "content": None, "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "get_weather", "arguments": "{}"}}]},
            {"role": "tool", "tool_call_id": "c1", "content": "sunny"},
            {"role": "assistant", "content": "It is sunny."},
        ]
    }  # fmt: skip
    ex = encode(record, tokenizer)
    trained_text = tokenizer.decode([label for label in ex.labels if label != IGNORE])
    assert "get_weather" in trained_text
    assert "It is sunny." in trained_text
    assert "sunny<|im_end|>" not in trained_text.replace("It is sunny.<|im_end|>", "")


def _long_record(words: int) -> dict:
    return {
        "messages": [
            {"role": "user", "content": "go"},
            {"role": "assistant", "content": "word " * words},
        ]
    }


def test_it_drops_overlong_examples_and_reports_them(tokenizer):
    records = [_long_record(2), _long_record(200) | {"id": 77}, _long_record(3)]
    result = encode_records(records, tokenizer, max_seq_len=64, overlength="drop")
    assert [ex.index for ex in result.examples] == [0, 2]
    assert result.dropped == [
        {
            "index": 1,
            "id": 77,
            "length": len(encode(records[1], tokenizer).input_ids),
            "reason": DROP_TOO_LONG,
        }
    ]
    assert result.truncated == []


def test_it_truncates_overlong_examples_and_reports_them(tokenizer):
    records = [_long_record(200)]
    result = encode_records(records, tokenizer, max_seq_len=64, overlength="truncate")
    assert len(result.examples[0].input_ids) == 64
    assert result.truncated[0]["length"] > 64


def test_it_raises_listing_every_overlong_example_under_error(tokenizer):
    with pytest.raises(
        OverlengthError, match=r"2 example\(s\) exceed max_seq_len=64.*#0.*#2"
    ) as info:
        encode_records(
            [_long_record(200), _long_record(1), _long_record(300)],
            tokenizer,
            max_seq_len=64,
            overlength="error",
        )
    assert [e["index"] for e in info.value.examples] == [0, 2]


def test_it_drops_examples_with_nothing_to_learn(tokenizer):
    record = {
        "messages": [
            {"role": "user", "content": "q"},
            {"role": "assistant", "content": "a", "weight": 0},
        ]
    }
    result = encode_records([record], tokenizer, max_seq_len=64)
    assert result.examples == []
    assert result.dropped[0]["reason"] == DROP_NOTHING_TO_LEARN


def test_it_previews_tokens_that_rejoin_into_the_rendered_text(tokenizer):
    pieces = preview(CONVERSATION, tokenizer, max_seq_len=10)
    rendered = tokenizer.apply_chat_template(
        [{k: v for k, v in m.items() if k != "weight"} for m in CONVERSATION["messages"]],
        tokenize=False,
    )
    assert "".join(p["text"] for p in pieces) == rendered
    assert [p["text"] for p in pieces if p["trained"]] == ["Hello", "<|im_end|>"]
    assert sum(p["kept"] for p in pieces) == 10


text = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=40)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(text, text, st.sampled_from([0, 1])), min_size=1, max_size=3))
def test_it_trains_exactly_the_weighted_answers_for_any_text(tokenizer, turns):
    messages = []
    for question, answer, weight in turns:
        messages += [
            {"role": "user", "content": question},
            {"role": "assistant", "content": answer, "weight": weight},
        ]
    ex = encode({"messages": messages}, tokenizer)
    trained = [label for label in ex.labels if label != IGNORE]
    # The answer's own tokens, as the model would generate them after the prompt, then the stop.
    expected = []
    for _, answer, weight in turns:
        if weight == 1:
            expected += tokenizer(answer, add_special_tokens=False).input_ids + [
                tokenizer.eos_token_id
            ]
    assert trained == expected
