"""hf_messages and rendered exports load in what trainers use: pyarrow/`datasets`-style JSON
reading, ``tokenizer.apply_chat_template`` with SmolLM2's template, and the recipe's label mask."""

import io
import os

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from jinja2.exceptions import UndefinedError
from pyarrow import json as pa_json

from datasets_app.canonical import content_hash
from datasets_app.formats import ExportRow, WriteError, write_export
from datasets_app.formats.encoders import Unrepresentable
from tests.reliability.tiny_model import TOKENIZER_DIR

from .strategies import conversations
from .test_export import PLAIN, TOOLS, WITH_SYSTEM

os.environ.setdefault("HF_HUB_OFFLINE", "1")

PARALLEL = {
    "messages": [
        {"role": "user", "content": "Weather in Paris and Rome?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {"id": "a", "type": "function", "function": {"name": "w", "arguments": '{"c":1}'}},
                {"id": "b", "type": "function", "function": {"name": "w", "arguments": "{}"}},
            ],
        },
        {"role": "tool", "content": "sunny", "tool_call_id": "a"},
        {"role": "tool", "content": "rain", "tool_call_id": "b"},
        {"role": "assistant", "content": "Sunny, then rain.", "weight": 1},
    ]
}
CONTENTS = [PLAIN, WITH_SYSTEM, TOOLS, PARALLEL]
# A tool-aware ChatML template of the common kind (Qwen/Hermes style): it reads every message's
# content, each call's function name and its arguments as a string, and the tools list.
TOOL_TEMPLATE = (
    "{% if tools %}<|im_start|>system\n{% for t in tools %}{{ t.function.name }}\n"
    "{% endfor %}<|im_end|>\n{% endif %}"
    "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}"
    "{% if m.tool_calls %}{% for c in m.tool_calls %}<tool_call>{{ c.function.name }} "
    "{{ c.function.arguments }}</tool_call>{% endfor %}{% endif %}<|im_end|>\n{% endfor %}"
)


@pytest.fixture(scope="module")
def tokenizer():
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(TOKENIZER_DIR)


def export_bytes(contents, fmt, **kwargs) -> bytes:
    rows = [ExportRow(c, i) for i, c in enumerate(contents)]
    return b"".join(write_export(rows, format=fmt, **kwargs))


def test_it_reproduces_the_template_failure_on_the_openai_export(tokenizer):
    rows = [orjson.loads(line) for line in export_bytes([TOOLS], "openai").splitlines()]
    with pytest.raises(UndefinedError, match="has no attribute 'content'"):
        tokenizer.apply_chat_template(rows[0]["messages"], tokenize=False)


def test_it_renders_every_hf_messages_row_with_smollm2s_template(tokenizer):
    data = export_bytes(CONTENTS, "hf_messages")
    # pyarrow's reader is what `datasets.load_dataset("json")` uses: one table, one column set
    table = pa_json.read_json(io.BytesIO(data))
    assert table.column_names == ["messages", "tools"]
    for row in table.to_pylist():
        assert all(isinstance(m["content"], str) for m in row["messages"])
        text = tokenizer.apply_chat_template(
            row["messages"], tools=row["tools"] or None, tokenize=False
        )
        assert text.count("<|im_start|>") >= len(row["messages"])
    calls = orjson.loads(data.splitlines()[2])["messages"][1]
    assert calls["content"] == ""
    assert calls["tool_calls"][0] == TOOLS["messages"][1]["tool_calls"][0]


def test_it_gives_a_tool_aware_template_the_calls_as_openai_json_strings():
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(TOKENIZER_DIR)
    tokenizer.chat_template = TOOL_TEMPLATE
    rows = pa_json.read_json(io.BytesIO(export_bytes(CONTENTS, "hf_messages"))).to_pylist()
    text = tokenizer.apply_chat_template(rows[3]["messages"], tools=None, tokenize=False)
    assert '<tool_call>w {"c":1}</tool_call><tool_call>w {}</tool_call>' in text
    text = tokenizer.apply_chat_template(
        rows[2]["messages"], tools=rows[2]["tools"], tokenize=False
    )
    assert text.startswith("<|im_start|>system\nw\n")


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
@given(conversations())
def test_it_keeps_every_conversation_but_null_contents(content):
    (line,) = export_bytes([content], "hf_messages", include_metadata=True).splitlines()
    row = orjson.loads(line)
    assert row["tools"] == (content.get("tools") or [])
    assert row.get("metadata") == (content.get("metadata") or None)
    back = [
        dict(m, content=None) if m.get("tool_calls") and m["content"] == "" else m
        for m in row["messages"]
    ]
    assert all(isinstance(m["content"], str) for m in row["messages"])
    assert content_hash(back, row["tools"] or None) == content_hash(
        content["messages"], content.get("tools")
    )


def _renderer(tokenizer):
    from training.recipe.data import TemplateError
    from training.recipe.rendered import rendered_record

    def render(content):
        try:
            return rendered_record(content, tokenizer)
        except TemplateError as exc:
            raise Unrepresentable(str(exc)) from exc

    return render


def test_it_writes_rendered_rows_whose_spans_are_the_label_mask(tokenizer):
    from training.recipe.data import IGNORE, encode

    data = export_bytes(CONTENTS, "rendered", renderer=_renderer(tokenizer))
    for content, line in zip(CONTENTS, data.splitlines(), strict=True):
        row = orjson.loads(line)
        assert set(row) == {"text", "trained_spans"}
        trained = [t for t in encode(content, tokenizer).labels if t != IGNORE]
        spans = [row["text"][s:e] for s, e in row["trained_spans"]]
        from_spans = [
            t for piece in spans for t in tokenizer(piece, add_special_tokens=False)["input_ids"]
        ]
        assert from_spans == trained
        assert all(piece.endswith("<|im_end|>") for piece in spans)
    # the tool example trains both assistant turns' text, not the tool's answer
    tools_row = orjson.loads(data.splitlines()[2])
    assert "sunny" not in "".join(tools_row["text"][s:e] for s, e in tools_row["trained_spans"])


def test_it_refuses_or_skips_a_row_the_template_cannot_render(tokenizer):
    from transformers import AutoTokenizer

    rewriting = AutoTokenizer.from_pretrained(TOKENIZER_DIR)
    # renders only the last message: earlier renders are no prefix of the full one
    rewriting.chat_template = "{{ messages[-1].content }}"
    later = [{"role": "user", "content": "Again"}, {"role": "assistant", "content": "Bye"}]
    two_turns = {"messages": [*PLAIN["messages"], *later]}
    with pytest.raises(WriteError, match="example 1"):
        export_bytes([PLAIN, two_turns], "rendered", renderer=_renderer(rewriting))
    export = write_export(
        [ExportRow(PLAIN, 0), ExportRow(two_turns, 1)],
        format="rendered",
        renderer=_renderer(rewriting),
        on_unrepresentable="skip",
    )
    assert len(b"".join(export).splitlines()) == 1
    assert export.skipped[0][0] == 1


def test_it_needs_a_renderer_for_the_rendered_format():
    with pytest.raises(ValueError, match="needs a renderer"):
        write_export([], format="rendered")
