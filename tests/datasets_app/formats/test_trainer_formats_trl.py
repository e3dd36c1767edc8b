"""Issue 24's "exports that trainers load without edits", checked with the trainers themselves:
each export file is read by Hugging Face ``datasets`` (``load_dataset("json")``, offline) and
trained for two steps by TRL's ``SFTTrainer`` on the tiny random Llama (CPU, a few seconds).

The OpenAI export of a tool-call example stops TRL before the first step with SmolLM2's chat
template (``'dict object' has no attribute 'content'``: the calling turn's content is null);
the ``hf_messages`` export of the same examples trains.
"""

from __future__ import annotations

import pytest
from jinja2.exceptions import UndefinedError

from datasets_app.formats import ExportRow, write_export
from tests.datasets_app.tokens.test_tokens_offline import no_network
from tests.training.recipe.conftest import tiny_model_dir, tokenizer  # noqa: F401

from .test_export import PLAIN, TOOLS, WITH_SYSTEM
from .test_trainer_formats import PARALLEL, _renderer

datasets = pytest.importorskip("datasets", reason="the datasets package (dev dependency)")
trl = pytest.importorskip("trl", reason="TRL (dev dependency)")

# no hub, no download: every socket connection fails the test
pytestmark = [pytest.mark.timeout(120), pytest.mark.usefixtures(no_network.__name__)]

# tool calls first, so TRL's look at the first row sees a calling turn
CONTENTS = [TOOLS, PARALLEL, PLAIN, WITH_SYSTEM]


def _export_file(tmp_path, fmt, **kwargs):
    rows = [ExportRow(c, i) for i, c in enumerate(CONTENTS)]
    path = tmp_path / f"export-{fmt}.jsonl"
    path.write_bytes(b"".join(write_export(rows, format=fmt, **kwargs)))
    return path


def _load(tmp_path, path):
    return datasets.load_dataset(
        "json", data_files=str(path), split="train", cache_dir=str(tmp_path / "hf-cache")
    )


def _trainer(tmp_path, model_dir, train_dataset, tokenizer, **config):  # noqa: F811
    from transformers import AutoModelForCausalLM

    args = trl.SFTConfig(
        output_dir=str(tmp_path / "trl"),
        max_steps=2,
        per_device_train_batch_size=2,
        learning_rate=1e-3,
        logging_steps=1,
        save_strategy="no",
        report_to=[],
        use_cpu=True,
        max_length=256,
        disable_tqdm=True,
        seed=0,
        **config,
    )
    model = AutoModelForCausalLM.from_pretrained(model_dir)
    return trl.SFTTrainer(
        model=model, args=args, train_dataset=train_dataset, processing_class=tokenizer
    )


def _two_steps(trainer) -> list[float]:
    trainer.train()
    losses = [entry["loss"] for entry in trainer.state.log_history if "loss" in entry]
    assert trainer.state.global_step == 2 and len(losses) == 2
    assert all(0 < loss < 20 for loss in losses)  # finite: the tiny model's ln(49152) is ~10.8
    return losses


def test_it_reproduces_the_template_failure_on_the_openai_export(
    tmp_path,
    tiny_model_dir,  # noqa: F811
    tokenizer,  # noqa: F811
):
    loaded = _load(tmp_path, _export_file(tmp_path, "openai"))
    assert loaded[0]["messages"][1]["content"] is None
    with pytest.raises(UndefinedError, match="'dict object' has no attribute 'content'"):
        _trainer(tmp_path, tiny_model_dir, loaded, tokenizer)


def test_it_trains_two_trl_steps_on_the_hf_messages_export(
    tmp_path,
    tiny_model_dir,  # noqa: F811
    tokenizer,  # noqa: F811
):
    loaded = _load(tmp_path, _export_file(tmp_path, "hf_messages"))
    assert loaded.column_names == ["messages", "tools"] and len(loaded) == len(CONTENTS)
    assert loaded[0]["messages"][1]["content"] == ""
    assert loaded[0]["messages"][1]["tool_calls"][0]["function"]["name"] == "w"
    assert loaded[0]["tools"][0]["function"]["name"] == "w"
    trainer = _trainer(tmp_path, tiny_model_dir, loaded, tokenizer)
    # TRL rendered every row, the tool-calling ones included, through SmolLM2's template
    rendered = [tokenizer.decode(ids) for ids in trainer.train_dataset["input_ids"]]
    assert "<|im_start|>tool\nsunny<|im_end|>" in rendered[0]
    assert "Sunny, then rain." in rendered[1]
    _two_steps(trainer)


def test_it_trains_two_trl_steps_on_the_rendered_exports_spans(
    tmp_path,
    tiny_model_dir,  # noqa: F811
    tokenizer,  # noqa: F811
):
    loaded = _load(tmp_path, _export_file(tmp_path, "rendered", renderer=_renderer(tokenizer)))
    assert loaded.column_names == ["text", "trained_spans"]

    def tokenized(row):
        # a token is trained when its characters lie inside one of the row's trained spans
        encoded = tokenizer(row["text"], add_special_tokens=False, return_offsets_mapping=True)
        inside = [
            int(any(s <= start and end <= e for s, e in row["trained_spans"]))
            for start, end in encoded["offset_mapping"]
        ]
        return {"input_ids": encoded["input_ids"], "completion_mask": inside}

    prepared = loaded.map(tokenized, remove_columns=loaded.column_names)
    trainer = _trainer(tmp_path, tiny_model_dir, prepared, tokenizer, completion_only_loss=True)
    for row, labels in zip(loaded, trainer.train_dataset["labels"], strict=True):
        learned = tokenizer.decode([t for t in labels if t != -100])
        assert learned == "".join(row["text"][s:e] for s, e in row["trained_spans"])
    assert "sunny" not in tokenizer.decode(
        [t for t in trainer.train_dataset["labels"][0] if t >= 0]
    )
    _two_steps(trainer)
