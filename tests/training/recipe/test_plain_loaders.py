"""A trained model folder loads in tools that know nothing of this project: plain ``peft`` and
``transformers`` in a fresh interpreter, and Ollama through the folder's Modelfile."""

import json
import re
import subprocess
import sys

import pytest

from training.recipe.config import TrainConfig
from training.recipe.loop import TrainingRecipe
from training.recipe.modelfile import NoGoTemplate, go_template, ollama_modelfile

# Runs under `python -I` (no cwd on sys.path, no PYTHON* variables): only torch, transformers
# and peft are importable by name, and the script checks that nothing of the project was loaded.
PLAIN_LOAD = """
import json, sys
import torch
from peft import PeftModel
from transformers import AutoModelForCausalLM, AutoTokenizer

base_dir, model_dir = sys.argv[1], sys.argv[2]
tokenizer = AutoTokenizer.from_pretrained(model_dir + "/weights")
ids = tokenizer.apply_chat_template(
    [{"role": "user", "content": "What is 2 + 3?"}], add_generation_prompt=True, return_tensors="pt"
)
ids = ids["input_ids"] if hasattr(ids, "keys") else ids
base = AutoModelForCausalLM.from_pretrained(base_dir).eval()
with torch.no_grad():
    base_logits = base(ids).logits
tuned = PeftModel.from_pretrained(base, model_dir + "/weights").eval()
merged = AutoModelForCausalLM.from_pretrained(model_dir + "/merged").eval()
with torch.no_grad():
    adapter_logits, merged_logits = tuned(ids).logits, merged(ids).logits
project = [m for m in sys.modules if m.split(".")[0] in ("training", "datasets_app", "finetunedb")]
print(json.dumps({
    "adapter_vs_merged": (adapter_logits - merged_logits).abs().max().item(),
    "adapter_vs_base": (adapter_logits - base_logits).abs().max().item(),
    "lora_in_merged": any("lora" in n for n, _ in merged.named_parameters()),
    "project_modules": project,
}))
"""


@pytest.fixture(scope="module")
def trained(tiny_model_dir, tmp_path_factory, records):
    out = tmp_path_factory.mktemp("run")
    config = TrainConfig.from_dict({"base_model": str(tiny_model_dir), "epochs": 3, "batch_size": 4, "max_seq_len": 128,
                                    "learning_rate": 2e-2, "eval_interval": 0, "checkpoint_interval": 0})  # fmt: skip
    recipe = TrainingRecipe(config, out_dir=out, models_dir=out / "m")
    recipe.setup(records, records[:4])
    recipe.train()
    recipe.save(lineage={"dataset_version_id": 1}, merged=True)
    return out / "model"


def test_it_loads_with_plain_peft_and_transformers_in_a_fresh_interpreter(trained, tiny_model_dir):
    done = subprocess.run(
        [sys.executable, "-I", "-c", PLAIN_LOAD, str(tiny_model_dir), str(trained)],
        capture_output=True,
        text=True,
        timeout=300,
        env={"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["project_modules"] == []
    assert not result["lora_in_merged"]
    assert result["adapter_vs_base"] > 1e-3  # the adapter changed the model ...
    assert result["adapter_vs_merged"] < 1e-4  # ... and the merged weights carry that change


def _directives(text: str) -> dict[str, list[str]]:
    """Modelfile directives as Ollama's parser reads them: a keyword, then a value that is
    either the rest of the line or a triple-quoted block that may span lines."""
    out: dict[str, list[str]] = {}
    for match in re.finditer(r'^(\w+) (?:"""(.*?)"""|([^\n]*))$', text, re.MULTILINE | re.DOTALL):
        keyword = match.group(1).upper()
        out.setdefault(keyword, []).append(
            match.group(2) if match.group(2) is not None else match.group(3)
        )
    return out


def _execute(template: str, messages: list[dict]) -> str:
    """Run the Go template's one construct (range over messages, a branch per role)."""
    body, prompt = template.removeprefix("{{- range .Messages }}").split("{{ end }}{{ end }}")
    parts = re.split(r'\{\{ (?:if|else if) eq \.Role "(\w+)" \}\}', body)
    branches = dict(zip(parts[1::2], parts[2::2], strict=True))
    text = "".join(branches[m["role"]].replace("{{ .Content }}", m["content"]) for m in messages)
    return (text + prompt).replace('{{ "{{" }}', "{{")


def test_it_writes_an_ollama_modelfile_that_renders_like_the_chat_template(trained, tokenizer):
    manifest = json.loads((trained / "manifest.json").read_text())
    assert "Modelfile" in manifest["files"]
    found = _directives((trained / "Modelfile").read_text())
    assert found["FROM"] == [
        "./model.gguf"
    ]  # the merged GGUF (tests/training/recipe/test_gguf_export.py)
    assert found["PARAMETER"] == ['stop "<|im_end|>"']
    (template,) = found["TEMPLATE"]
    chats = [
        [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi {{x}}"}],
        [
            {"role": "user", "content": "1+1?"},
            {"role": "assistant", "content": "2"},
            {"role": "user", "content": "and 2+2?"},
        ],
    ]
    for chat in chats:
        expected = tokenizer.apply_chat_template(chat, tokenize=False, add_generation_prompt=True)
        if chat[0]["role"] != "system":  # Ollama puts SYSTEM first when a chat has none
            chat = [{"role": "system", "content": found["SYSTEM"][0]}, *chat]
        assert _execute(template, chat) == expected

    adapter_only = _directives(ollama_modelfile(tokenizer, base_model="b", adapter_dir="weights"))
    assert adapter_only["FROM"] == ["./base"] and adapter_only["ADAPTER"] == ["./weights"]
    merged_only = _directives(ollama_modelfile(tokenizer, base_model="b", adapter_dir="weights", merged_dir="merged"))  # fmt: skip
    assert merged_only["FROM"] == ["./merged"] and "ADAPTER" not in merged_only


def test_it_writes_no_template_it_cannot_translate(tokenizer):
    from transformers import AutoTokenizer

    rewriting = AutoTokenizer.from_pretrained(tokenizer.name_or_path)
    rewriting.chat_template = "{{ messages[-1].content }}"
    with pytest.raises(NoGoTemplate):
        go_template(rewriting)
    text = ollama_modelfile(rewriting, base_model="b", adapter_dir="weights")
    assert "TEMPLATE" not in _directives(text) and "# No TEMPLATE" in text
