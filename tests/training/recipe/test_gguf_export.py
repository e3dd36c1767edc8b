"""The merged GGUF in a model folder loads back in plain ``transformers`` (whose GGUF loader
undoes llama.cpp's Q/K permutation) with the merged model's logits and tokenizer."""

import json

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from training.recipe.config import TrainConfig
from training.recipe.gguf_export import (
    GGUFUnsupported,
    main,
    permute,
    pre_tokenizer_name,
    write_gguf,
)
from training.recipe.loop import TrainingRecipe

SAMPLES = [
    "What is 12 + 30? Let me think: 42.",
    "<|im_start|>user\nHéllo  wörld\t🙂<|im_end|>\n<|im_start|>assistant\n",
]


@pytest.fixture(scope="module")
def trained(tiny_model_dir, tmp_path_factory, records):
    out = tmp_path_factory.mktemp("run")
    config = TrainConfig.from_dict({"base_model": str(tiny_model_dir), "epochs": 2, "batch_size": 4, "max_seq_len": 128,
                                    "learning_rate": 2e-2, "eval_interval": 0, "checkpoint_interval": 0})  # fmt: skip
    recipe = TrainingRecipe(config, out_dir=out, models_dir=out / "m")
    recipe.setup(records, records[:4])
    recipe.train()
    recipe.save(lineage={"dataset_version_id": 1}, merged=True)
    return out / "model"


def _logits(model, tokenizer):
    ids = tokenizer(SAMPLES[0], return_tensors="pt").input_ids
    with torch.no_grad():
        return model(ids).logits


def test_it_writes_a_gguf_that_transformers_loads_with_the_merged_logits(trained, tokenizer):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    manifest = json.loads((trained / "manifest.json").read_text())
    assert "model.gguf" in manifest["files"]
    merged = AutoModelForCausalLM.from_pretrained(trained / "merged").eval()
    reloaded = AutoModelForCausalLM.from_pretrained(trained, gguf_file="model.gguf").eval()
    expected, got = _logits(merged, tokenizer), _logits(reloaded, tokenizer)
    assert (expected - got).abs().max().item() < 2e-2  # F16 weights, logits of size ~1
    assert (expected.argmax(-1) == got.argmax(-1)).all()

    from_gguf = AutoTokenizer.from_pretrained(trained, gguf_file="model.gguf")
    for text in SAMPLES:
        assert from_gguf(text).input_ids == tokenizer(text).input_ids


def test_it_writes_f32_exactly_and_the_llama_metadata(tiny_model_dir, tokenizer, tmp_path):
    from gguf import GGUFReader
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir).eval()
    write_gguf(model, tokenizer, tmp_path / "m.gguf", dtype="f32", name="tiny")
    tokenizer.save_pretrained(tmp_path)
    reloaded = AutoModelForCausalLM.from_pretrained(tmp_path, gguf_file="m.gguf").eval()
    assert torch.equal(_logits(model, tokenizer), _logits(reloaded, tokenizer))

    fields = {k: f.contents() for k, f in GGUFReader(tmp_path / "m.gguf").fields.items()}
    assert fields["general.architecture"] == "llama"
    assert fields["llama.block_count"] == 2 and fields["llama.embedding_length"] == 32
    assert fields["llama.attention.head_count"] == 4
    assert fields["llama.attention.head_count_kv"] == 2
    assert fields["tokenizer.ggml.model"] == "gpt2"
    assert fields["tokenizer.ggml.pre"] == "smollm"  # as in the bundled SmolLM2 GGUF
    assert fields["tokenizer.ggml.eos_token_id"] == tokenizer.eos_token_id
    assert fields["tokenizer.chat_template"] == tokenizer.chat_template
    assert len(fields["tokenizer.ggml.tokens"]) == model.config.vocab_size
    assert not (tmp_path / "m.gguf.part").exists()


def test_it_says_what_it_cannot_write(tiny_model_dir, tokenizer, tmp_path):
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, Qwen2Config, Qwen2ForCausalLM

    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    with pytest.raises(GGUFUnsupported, match="Quantized types.*llama-quantize"):
        write_gguf(model, tokenizer, tmp_path / "q.gguf", dtype="q4_0")
    qwen = Qwen2ForCausalLM(Qwen2Config(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64,
                                        num_hidden_layers=1, num_attention_heads=4, num_key_value_heads=2))  # fmt: skip
    with pytest.raises(GGUFUnsupported, match="only LlamaForCausalLM"):
        write_gguf(qwen, tokenizer, tmp_path / "qwen.gguf")
    lora = get_peft_model(model, LoraConfig(r=2, target_modules=["q_proj"]))
    with pytest.raises(GGUFUnsupported, match="merge_and_unload"):
        write_gguf(lora, tokenizer, tmp_path / "lora.gguf")
    assert list(tmp_path.iterdir()) == []
    byte_level = {"type": "ByteLevel", "use_regex": True}
    assert pre_tokenizer_name(byte_level, "org/other") == "gpt-2"
    with pytest.raises(GGUFUnsupported, match="pre-tokenizer"):
        pre_tokenizer_name({"type": "Sequence", "pretokenizers": [{"type": "Metaspace"}]}, "x")


def test_it_converts_a_merged_folder_from_the_command_line(trained, tmp_path, capsys):
    from gguf import GGUFReader

    assert main([str(trained / "merged"), str(tmp_path / "cli.gguf"), "--dtype", "f32"]) == 0
    assert GGUFReader(tmp_path / "cli.gguf").fields["general.file_type"].contents() == 0  # ALL_F32
    assert main([str(trained / "merged"), str(tmp_path / "q.gguf"), "--dtype", "q8_0"]) == 2
    assert main([str(tmp_path / "missing"), str(tmp_path / "m.gguf")]) == 2
    assert "llama-quantize" in capsys.readouterr().err
    assert not (tmp_path / "q.gguf").exists()


@settings(max_examples=40, deadline=None)
@given(heads=st.sampled_from([(1, 1), (2, 1), (4, 2), (4, 4), (6, 3)]), half=st.integers(1, 4),
       cols=st.integers(1, 5))  # fmt: skip
def test_it_permutes_q_and_k_as_transformers_gguf_loader_undoes(heads, half, cols):
    from transformers.modeling_gguf_pytorch_utils import LlamaTensorProcessor

    n_head, n_kv = heads
    undo = LlamaTensorProcessor(config={})._reverse_permute_weights
    for rows_heads, kv in ((n_head, n_head), (n_kv, n_kv)):
        weights = np.arange(rows_heads * 2 * half * cols, dtype=np.float32).reshape(-1, cols)
        permuted = permute(weights, n_head, kv)
        assert sorted(permuted[:, 0].tolist()) == sorted(weights[:, 0].tolist())
        assert np.array_equal(undo(permuted, n_head, kv), weights)


@pytest.mark.slow
def test_it_exports_the_bundled_smollm2_merged_with_a_lora(tmp_path):
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from training.recipe.base_models import ensure_bundled_model

    base = ensure_bundled_model(tmp_path / "base")
    tokenizer = AutoTokenizer.from_pretrained(base)
    torch.manual_seed(0)
    lora = get_peft_model(AutoModelForCausalLM.from_pretrained(base), LoraConfig(r=4, target_modules=["q_proj", "k_proj", "v_proj"], init_lora_weights=False))  # fmt: skip
    merged = lora.merge_and_unload().eval()
    (tmp_path / "out").mkdir()
    write_gguf(merged, tokenizer, tmp_path / "out" / "model.gguf", dtype="f16")
    tokenizer.save_pretrained(tmp_path / "out")
    reloaded = AutoModelForCausalLM.from_pretrained(tmp_path / "out", gguf_file="model.gguf").eval()
    expected, got = _logits(merged, tokenizer), _logits(reloaded, tokenizer)
    assert (expected - got).abs().max().item() < 0.1  # F16 over 30 layers (0.035 seen), logits ~40
    assert (expected.argmax(-1) == got.argmax(-1)).float().mean() > 0.9
    from_gguf = AutoTokenizer.from_pretrained(tmp_path / "out", gguf_file="model.gguf")
    for text in SAMPLES:
        assert from_gguf(text).input_ids == tokenizer(text).input_ids
