"""A version exported as hf_messages and as rendered (with a chosen base model's template)."""

import orjson
import pytest

from tests.training.conftest import tiny_model_dir, tokenizer, training_settings  # noqa: F401

from .conftest import chat
from .test_export import _get

pytestmark = pytest.mark.postgres

CALL = {
    "role": "assistant",
    "content": None,
    "tool_calls": [
        {"id": "call_0", "type": "function", "function": {"name": "w", "arguments": "{}"}}
    ],
}
TOOLS = [{"type": "function", "function": {"name": "w", "parameters": {"type": "object"}}}]


@pytest.fixture
def version(dataset, owner, make_example, freeze):
    make_example(dataset, owner, chat("hello", "hi"), split="train")
    tool_chat = [
        {"role": "user", "content": "Weather?"},
        CALL,
        {"role": "tool", "content": "sunny", "tool_call_id": "call_0"},
        {"role": "assistant", "content": "Sunny."},
    ]
    make_example(dataset, owner, tool_chat, tools=TOOLS, split="train")
    return freeze(dataset, name="v1")


def test_it_exports_hf_messages_with_content_and_tools_on_every_row(version, owner, api_for):
    response, body = _get(api_for(owner), version, "format=hf_messages")
    assert response.status_code == 200
    assert response["Content-Disposition"].endswith('-hf_messages.jsonl"')
    rows = [orjson.loads(line) for line in body.splitlines()]
    assert [row["tools"] for row in rows] == [[], TOOLS]
    assert rows[1]["messages"][1] == dict(CALL, content="")


def test_it_exports_rendered_rows_for_the_chosen_base_model(
    version,
    owner,
    api_for,
    training_settings,  # noqa: F811
    tiny_model_dir,  # noqa: F811
):
    response, body = _get(
        api_for(owner), version, f"format=rendered&split=train&base_model={tiny_model_dir}"
    )
    assert response.status_code == 200, body
    rows = [orjson.loads(line) for line in body.splitlines()]
    trained = ["".join(row["text"][s:e] for s, e in row["trained_spans"]) for row in rows]
    assert trained[0] == "hi<|im_end|>"
    # both assistant turns of the tool chat are learned; SmolLM2's template has no tool calls,
    # so the recipe writes the call as JSON text, and that is what the model sees and learns
    assert trained[1] == '[{"name": "w", "arguments": "{}"}]<|im_end|>Sunny.<|im_end|>'
    assert "sunny" not in trained[1]
    assert rows[0]["text"].startswith("<|im_start|>system\n")


def test_it_answers_400_for_a_base_model_that_is_not_allowed(
    version,
    owner,
    api_for,
    training_settings,  # noqa: F811
):
    response, body = _get(api_for(owner), version, "format=rendered&base_model=/etc")
    assert response.status_code == 400
    assert orjson.loads(body)["errors"][0]["path"] == "base_model"
