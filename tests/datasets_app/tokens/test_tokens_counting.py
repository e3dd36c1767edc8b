"""The OpenAI cookbook notebook's own code is the oracle (examples/Chat_finetuning_data_prep.ipynb)."""

import contextlib
import io
import json
from pathlib import Path

import numpy as np
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from datasets_app.tokens import count_example_tokens, token_stats

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "checks" / "cookbook_chat.jsonl"


def notebook_output(dataset, encoding, limit):
    """The notebook's cells 'Token Counting Utilities', 'Data Warnings and Token Counts' and
    'Pricing', copied verbatim except for the limit constant (4096 in one revision, 16385 in
    the current one)."""

    def num_tokens_from_messages(messages, tokens_per_message=3, tokens_per_name=1):
        num_tokens = 0
        for message in messages:
            num_tokens += tokens_per_message
            for key, value in message.items():
                num_tokens += len(encoding.encode(value))
                if key == "name":
                    num_tokens += tokens_per_name
        num_tokens += 3
        return num_tokens

    def num_assistant_tokens_from_messages(messages):
        num_tokens = 0
        for message in messages:
            if message["role"] == "assistant":
                num_tokens += len(encoding.encode(message["content"]))
        return num_tokens

    def print_distribution(values, name):
        print(f"\n#### Distribution of {name}:")
        print(f"min / max: {min(values)}, {max(values)}")
        print(f"mean / median: {np.mean(values)}, {np.median(values)}")
        print(f"p5 / p95: {np.quantile(values, 0.1)}, {np.quantile(values, 0.9)}")

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        n_missing_system = 0
        n_missing_user = 0
        n_messages = []
        convo_lens = []
        assistant_message_lens = []

        for ex in dataset:
            messages = ex["messages"]
            if not any(message["role"] == "system" for message in messages):
                n_missing_system += 1
            if not any(message["role"] == "user" for message in messages):
                n_missing_user += 1
            n_messages.append(len(messages))
            convo_lens.append(num_tokens_from_messages(messages))
            assistant_message_lens.append(num_assistant_tokens_from_messages(messages))

        print("Num examples missing system message:", n_missing_system)
        print("Num examples missing user message:", n_missing_user)
        print_distribution(n_messages, "num_messages_per_example")
        print_distribution(convo_lens, "num_total_tokens_per_example")
        print_distribution(assistant_message_lens, "num_assistant_tokens_per_example")
        n_too_long = sum(l > limit for l in convo_lens)  # noqa: E741
        print(
            f"\n{n_too_long} examples may be over the {limit} token limit, they will be truncated during fine-tuning"
        )

        MAX_TOKENS_PER_EXAMPLE = limit
        TARGET_EPOCHS = 3
        MIN_TARGET_EXAMPLES = 100
        MAX_TARGET_EXAMPLES = 25000
        MIN_DEFAULT_EPOCHS = 1
        MAX_DEFAULT_EPOCHS = 25

        n_epochs = TARGET_EPOCHS
        n_train_examples = len(dataset)
        if n_train_examples * TARGET_EPOCHS < MIN_TARGET_EXAMPLES:
            n_epochs = min(MAX_DEFAULT_EPOCHS, MIN_TARGET_EXAMPLES // n_train_examples)
        elif n_train_examples * TARGET_EPOCHS > MAX_TARGET_EXAMPLES:
            n_epochs = max(MIN_DEFAULT_EPOCHS, MAX_TARGET_EXAMPLES // n_train_examples)

        n_billing_tokens_in_dataset = sum(
            min(MAX_TOKENS_PER_EXAMPLE, length) for length in convo_lens
        )
        print(
            f"Dataset has ~{n_billing_tokens_in_dataset} tokens that will be charged for during training"
        )
        print(f"By default, you'll train for {n_epochs} epochs on this dataset")
        print(f"By default, you'll be charged for ~{n_epochs * n_billing_tokens_in_dataset} tokens")
    return out.getvalue(), convo_lens, assistant_message_lens


def our_output(dataset, encoding, limit):
    stats = token_stats(
        [count_example_tokens(ex["messages"], encoding) for ex in dataset], limit=limit
    )
    lines = [
        f"Num examples missing system message: {stats.n_missing_system}",
        f"Num examples missing user message: {stats.n_missing_user}",
        *stats.messages.notebook_lines("num_messages_per_example"),
        *stats.total_tokens.notebook_lines("num_total_tokens_per_example"),
        *stats.assistant_tokens.notebook_lines("num_assistant_tokens_per_example"),
        "",
        f"{stats.n_over_limit} examples may be over the {limit} token limit, they will be truncated during fine-tuning",
        f"Dataset has ~{stats.billable_tokens} tokens that will be charged for during training",
        f"By default, you'll train for {stats.epochs} epochs on this dataset",
        f"By default, you'll be charged for ~{stats.charged_tokens} tokens",
    ]
    return "\n".join(lines) + "\n", stats


def load_fixture():
    return [json.loads(line) for line in FIXTURE.read_text().splitlines()]


def test_it_prints_exactly_what_the_notebook_prints(cl100k):
    dataset = load_fixture()
    for limit in (4096, 16385, 300):
        expected, convo_lens, _ = notebook_output(dataset, cl100k, limit)
        actual, stats = our_output(dataset, cl100k, limit)
        assert actual == expected
    assert stats.n_over_limit >= 1  # limit 300 puts the long example over


def test_it_counts_each_example_like_the_notebook(cl100k):
    dataset = load_fixture()
    _, convo_lens, assistant_lens = notebook_output(dataset, cl100k, 4096)
    counts = [count_example_tokens(ex["messages"], cl100k) for ex in dataset]
    assert [c.total_tokens for c in counts] == convo_lens
    assert [c.assistant_tokens for c in counts] == assistant_lens


def test_it_counts_tool_calls_and_weight_as_json(cl100k):
    call = [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]
    messages = [
        {"role": "user", "content": "go"},
        {"role": "assistant", "content": None, "tool_calls": call, "weight": 1},
    ]
    counts = count_example_tokens(messages, cl100k)
    expected = 3 + 3 + len(cl100k.encode("user")) + len(cl100k.encode("go"))
    expected += (
        3
        + len(cl100k.encode("assistant"))
        + len(cl100k.encode(json.dumps(call, separators=(",", ":"))))
    )
    expected += len(cl100k.encode("1"))
    assert counts.total_tokens == expected
    assert counts.assistant_tokens == 0


def test_it_counts_special_token_text_as_plain_text(cl100k):
    counts = count_example_tokens([{"role": "user", "content": "<|endoftext|>"}], cl100k)
    assert counts.total_tokens == 3 + 3 + 1 + len(cl100k.encode_ordinary("<|endoftext|>"))


role = st.sampled_from(["system", "user", "assistant"])
message = st.builds(lambda r, c: {"role": r, "content": c}, role, st.text(max_size=80))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(message, min_size=1, max_size=6), min_size=1, max_size=8))
def test_it_matches_the_notebook_on_any_string_messages(cl100k, dataset):
    dataset = [{"messages": m} for m in dataset]
    assume(all("<|" not in m["content"] for ex in dataset for m in ex["messages"]))
    expected, _, _ = notebook_output(dataset, cl100k, 50)
    actual, _ = our_output(dataset, cl100k, 50)
    assert actual == expected
