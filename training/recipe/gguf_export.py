"""A llama.cpp-ready GGUF of merged weights, written with the ``gguf`` package's ``GGUFWriter``.

The ``gguf`` package (0.19) reads and writes the file format but has no Hugging Face → GGUF
converter (that is llama.cpp's ``convert_hf_to_gguf.py``, not shipped on PyPI), so this module is
the converter for the one architecture the recipe trains: ``LlamaForCausalLM`` (SmolLM2 and the
tests' tiny Llama). It maps the tensor names to llama.cpp's, applies llama.cpp's Q/K row
permutation (HF stores rotary halves as ``[x0..x(d/2), y0..]``; llama.cpp expects interleaved
pairs — ``LlamaModel.permute`` in convert_hf_to_gguf.py), writes the ``general.*`` and ``llama.*``
hyperparameters, and the byte-level BPE tokenizer (``tokenizer.ggml.model = "gpt2"``: tokens,
token types, merges, special ids, chat template).

What it cannot write (it raises :class:`GGUFUnsupported` saying so): quantized tensor types
(Q4_0, Q8_0, K-quants … — quantize the F16 file with llama.cpp's ``llama-quantize``), any
architecture other than Llama (Qwen2, Mistral's sliding window, Gemma, MoE, …), Llama variants
with rope scaling, attention/MLP biases or a head_dim other than hidden/heads, and tokenizers that
are not byte-level BPE (SentencePiece / Unigram).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

DTYPES = ("f16", "f32")
SUPPORTED = "LlamaForCausalLM in F16 or F32 with a byte-level BPE tokenizer"

# HF name (inside model.layers.N.) → llama.cpp name (inside blk.N.)
LAYER_NAMES = {
    "self_attn.q_proj.weight": "attn_q.weight",
    "self_attn.k_proj.weight": "attn_k.weight",
    "self_attn.v_proj.weight": "attn_v.weight",
    "self_attn.o_proj.weight": "attn_output.weight",
    "mlp.gate_proj.weight": "ffn_gate.weight",
    "mlp.up_proj.weight": "ffn_up.weight",
    "mlp.down_proj.weight": "ffn_down.weight",
    "input_layernorm.weight": "attn_norm.weight",
    "post_attention_layernorm.weight": "ffn_norm.weight",
}
TOP_NAMES = {
    "model.embed_tokens.weight": "token_embd.weight",
    "model.norm.weight": "output_norm.weight",
    "lm_head.weight": "output.weight",
}
# llama.cpp's token types (gguf.TokenType)
NORMAL, UNKNOWN, CONTROL, USER_DEFINED, UNUSED = 1, 2, 3, 4, 5


class GGUFUnsupported(ValueError):
    """The model or the requested type is outside what this writer can produce."""


def permute(weights: np.ndarray, n_head: int, n_head_kv: int | None = None) -> np.ndarray:
    """llama.cpp's ``LlamaModel.permute``: reorder each head's rows from HF's half-split rotary
    layout to llama.cpp's interleaved one (transformers' GGUF loader undoes exactly this)."""
    if n_head_kv is not None and n_head != n_head_kv:
        n_head = n_head_kv
    return (
        weights.reshape(n_head, 2, weights.shape[0] // n_head // 2, *weights.shape[1:])
        .swapaxes(1, 2)
        .reshape(weights.shape)
    )


def gguf_name(hf_name: str) -> str:
    """llama.cpp's tensor name for a Hugging Face Llama tensor name."""
    if hf_name in TOP_NAMES:
        return TOP_NAMES[hf_name]
    parts = hf_name.split(".", 3)
    if len(parts) == 4 and parts[:2] == ["model", "layers"] and parts[3] in LAYER_NAMES:
        return f"blk.{int(parts[2])}.{LAYER_NAMES[parts[3]]}"
    raise GGUFUnsupported(f"tensor {hf_name!r} has no llama.cpp name; supported: {SUPPORTED}")


def check_config(config: Any, dtype: str) -> None:
    """Raise :class:`GGUFUnsupported` naming what is outside :data:`SUPPORTED`."""
    if dtype not in DTYPES:
        raise GGUFUnsupported(
            f"GGUF type {dtype!r} cannot be written here: only {', '.join(DTYPES)}. Quantized "
            "types (Q4_0, Q8_0, K-quants) come from llama.cpp's llama-quantize run on the F16 file."
        )
    architectures = list(getattr(config, "architectures", None) or [])
    if getattr(config, "model_type", None) != "llama" or architectures not in (
        [],
        ["LlamaForCausalLM"],
    ):
        raise GGUFUnsupported(
            f"architecture {architectures or config.model_type!r} cannot be written as GGUF here: "
            f"only {SUPPORTED} (use llama.cpp's convert_hf_to_gguf.py on the merged folder)."
        )
    head_dim = config.hidden_size // config.num_attention_heads
    problems = []
    if getattr(config, "head_dim", head_dim) not in (None, head_dim):
        problems.append(f"head_dim {config.head_dim} != hidden_size / heads ({head_dim})")
    rope = getattr(config, "rope_scaling", None) or {}
    if rope and rope.get("rope_type", rope.get("type", "default")) != "default":
        problems.append(f"rope scaling {rope.get('rope_type', rope.get('type'))!r}")
    if getattr(config, "attention_bias", False) or getattr(config, "mlp_bias", False):
        problems.append("attention or MLP biases")
    if problems:
        raise GGUFUnsupported(f"this Llama has {', '.join(problems)}; only {SUPPORTED}.")


def rope_theta(config: Any) -> float:
    """The RoPE base: transformers 5 keeps it in ``rope_parameters``, older configs as
    ``rope_theta``; Llama's default 10000 when neither says."""
    params = getattr(config, "rope_parameters", None) or {}
    return float(params.get("rope_theta") or getattr(config, "rope_theta", None) or 10000.0)


def tensors(state: dict[str, Any], config: Any, dtype: str) -> list[tuple[str, np.ndarray]]:
    """(llama.cpp name, array) for every tensor, Q/K permuted; norms stay F32 as llama.cpp keeps
    1-D tensors; ``output.weight`` is dropped when tied to the embeddings."""
    out = []
    tied = bool(getattr(config, "tie_word_embeddings", False))
    for hf_name, tensor in state.items():
        if hf_name == "lm_head.weight" and tied:
            continue
        name = gguf_name(hf_name)
        array = tensor.detach().to("cpu").float().numpy()
        if name.endswith("attn_q.weight"):
            array = permute(array, config.num_attention_heads, config.num_attention_heads)
        elif name.endswith("attn_k.weight"):
            array = permute(array, config.num_attention_heads, config.num_key_value_heads)
        if dtype == "f16" and array.ndim > 1:
            array = array.astype(np.float16)
        out.append((name, np.ascontiguousarray(array, dtype=array.dtype)))
    return out


def pre_tokenizer_name(pre: dict[str, Any], name: str) -> str:
    """llama.cpp's ``tokenizer.ggml.pre`` for a byte-level pre-tokenizer: "smollm" for SmolLM's
    vocabularies (GPT-2 split, digits apart — the bundled GGUF says so), "gpt-2" for the plain
    GPT-2 split, "llama-bpe" for Llama 3's split; anything else is refused, since llama.cpp would
    then cut the text differently from the tokenizer the model was trained with."""
    steps = pre.get("pretokenizers") if pre.get("type") == "Sequence" else [pre]
    kinds = [step.get("type") for step in steps or []]
    if kinds == ["ByteLevel"] and steps[0].get("use_regex", True):
        return "smollm" if "smollm" in name.lower() else "gpt-2"
    if kinds == ["Digits", "ByteLevel"] and steps[0].get("individual_digits"):
        return "smollm"
    if kinds == ["Split", "ByteLevel"] and "p{N}{1,3}" in json.dumps(steps[0]):
        return "llama-bpe"
    raise GGUFUnsupported(
        f"the byte-level pre-tokenizer {kinds} has no llama.cpp name here; only {SUPPORTED} "
        "splitting text like GPT-2, SmolLM or Llama 3."
    )


def tokenizer_fields(tokenizer, vocab_size: int) -> dict[str, Any]:
    """The ``tokenizer.ggml.*`` fields for a byte-level BPE tokenizer (llama.cpp's "gpt2" model):
    the tokens spelled as in tokenizer.json, their types, the merges and the special ids."""
    spec = json.loads(tokenizer.backend_tokenizer.to_str())
    model = spec.get("model") or {}
    pre = json.dumps(spec.get("pre_tokenizer") or {})
    if model.get("type") != "BPE" or "ByteLevel" not in pre:
        raise GGUFUnsupported(
            f"tokenizer {model.get('type')!r} is not byte-level BPE; only {SUPPORTED}."
        )
    by_id = {index: token for token, index in tokenizer.get_vocab().items()}
    if len(by_id) > vocab_size:
        raise GGUFUnsupported(
            f"tokenizer has {len(by_id)} tokens, more than the model's {vocab_size}"
        )
    added = {a["id"]: a for a in spec.get("added_tokens") or []}
    tokens, types = [], []
    for index in range(vocab_size):
        if index not in by_id:
            tokens.append(f"[PAD{index}]")
            types.append(UNUSED)
        elif index in added:
            tokens.append(by_id[index])
            types.append(CONTROL if added[index].get("special") else USER_DEFINED)
        else:
            tokens.append(by_id[index])
            types.append(NORMAL)
    merges = [m if isinstance(m, str) else " ".join(m) for m in model.get("merges") or []]
    return {
        "pre": pre_tokenizer_name(spec.get("pre_tokenizer") or {}, tokenizer.name_or_path or ""),
        "tokens": tokens,
        "types": types,
        "merges": merges,
        "bos": tokenizer.bos_token_id,
        "eos": tokenizer.eos_token_id,
        "pad": tokenizer.pad_token_id,
        "unk": tokenizer.unk_token_id,
        "chat_template": tokenizer.chat_template
        if isinstance(tokenizer.chat_template, str)
        else None,
    }


def write_gguf(model, tokenizer, path: Path, *, dtype: str = "f16", name: str = "") -> Path:
    """Write ``model`` (a plain ``LlamaForCausalLM``: merge a LoRA first with
    ``merge_and_unload``) and ``tokenizer`` to ``path`` as a GGUF llama.cpp loads."""
    import gguf

    config = model.config
    check_config(config, dtype)
    if any("lora_" in key for key in model.state_dict()):
        raise GGUFUnsupported("the model still has LoRA layers: merge_and_unload() it first")
    fields = tokenizer_fields(tokenizer, config.vocab_size)
    head_dim = config.hidden_size // config.num_attention_heads
    path = Path(path)
    tmp = path.with_name(path.name + ".part")  # renamed into place once complete
    writer = gguf.GGUFWriter(str(tmp), "llama")
    writer.add_name(name or str(getattr(config, "_name_or_path", "") or "fine-tune"))
    writer.add_file_type(
        gguf.LlamaFileType.MOSTLY_F16 if dtype == "f16" else gguf.LlamaFileType.ALL_F32
    )
    writer.add_context_length(config.max_position_embeddings)
    writer.add_embedding_length(config.hidden_size)
    writer.add_block_count(config.num_hidden_layers)
    writer.add_feed_forward_length(config.intermediate_size)
    writer.add_head_count(config.num_attention_heads)
    writer.add_head_count_kv(config.num_key_value_heads)
    writer.add_rope_dimension_count(head_dim)
    writer.add_rope_freq_base(rope_theta(config))
    writer.add_layer_norm_rms_eps(config.rms_norm_eps)
    writer.add_vocab_size(config.vocab_size)
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre(fields["pre"])
    writer.add_token_list(fields["tokens"])
    writer.add_token_types(fields["types"])
    writer.add_token_merges(fields["merges"])
    for key, adder in (
        ("bos", writer.add_bos_token_id),
        ("eos", writer.add_eos_token_id),
        ("pad", writer.add_pad_token_id),
        ("unk", writer.add_unk_token_id),
    ):
        if fields[key] is not None:
            adder(fields[key])
    writer.add_add_bos_token(False)
    if fields["chat_template"]:
        writer.add_chat_template(fields["chat_template"])
    for tensor_name, array in tensors(model.state_dict(), config, dtype):
        writer.add_tensor(tensor_name, array)
    try:
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_tensors_to_file()
        writer.close()
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def main(argv: list[str] | None = None) -> int:
    """``python -m training.recipe.gguf_export MERGED_DIR OUT.gguf [--dtype f16|f32]``: write the
    GGUF of a merged (plain Hugging Face) folder, e.g. a model folder's ``merged/``."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m training.recipe.gguf_export")
    parser.add_argument("model_dir", type=Path, help="a merged Hugging Face folder (config.json)")
    parser.add_argument("out", type=Path, help="the .gguf file to write")
    parser.add_argument("--dtype", default="f16", help="f16 (default) or f32")
    args = parser.parse_args(argv)
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    try:
        check_config(AutoConfig.from_pretrained(args.model_dir), args.dtype)
        model = AutoModelForCausalLM.from_pretrained(args.model_dir, dtype="float32")
        write_gguf(model, AutoTokenizer.from_pretrained(args.model_dir), args.out, dtype=args.dtype)
    except (GGUFUnsupported, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
