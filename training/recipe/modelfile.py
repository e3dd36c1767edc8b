"""An Ollama Modelfile for a saved model: the base (or the merged weights), the adapter, and the
chat template translated from the tokenizer's Jinja template into Ollama's Go template.

The translation does not parse Jinja: it renders sentinel conversations with the tokenizer's own
template and cuts the text around the sentinels, which gives, per role, the text before and after
a message, the generation prompt, and a default system prompt the template inserts when there is
none. That works for every template that renders each turn on its own (ChatML, Llama 3, Gemma,
...); a template whose earlier turns change once later turns are added cannot be written as one
per-message Go template, and then the Modelfile says so instead of guessing a TEMPLATE.

Worked example (SmolLM2's ChatML template)::

    TEMPLATE \"\"\"{{- range .Messages }}{{ if eq .Role "system" }}<|im_start|>system
    {{ .Content }}<|im_end|>
    ...{{ end }}<|im_start|>assistant
    \"\"\"
    PARAMETER stop "<|im_end|>"
"""

from __future__ import annotations

from typing import Any

_SENTINEL = {"system": "\x00SYS\x00", "user": "\x00USR\x00", "assistant": "\x00AST\x00"}
ROLES = ("system", "user", "assistant")


class NoGoTemplate(ValueError):
    """The tokenizer's template does not decompose into per-message pieces."""


def _render(tokenizer, messages, generation_prompt=False) -> str:
    return tokenizer.apply_chat_template(
        messages, tokenize=False, add_generation_prompt=generation_prompt
    )


def _pieces(tokenizer) -> tuple[dict[str, tuple[str, str]], str, str]:
    """(role → (before, after)), the generation prompt, the default system prompt ('' if none)."""
    messages = [{"role": role, "content": _SENTINEL[role]} for role in ROLES]
    wraps = {}
    previous = ""
    for i, role in enumerate(ROLES):
        text = _render(tokenizer, messages[: i + 1])
        if not text.startswith(previous):
            raise NoGoTemplate("earlier turns render differently once a later turn is added")
        turn = text[len(previous) :]
        before, sep, after = turn.partition(_SENTINEL[role])
        if not sep:
            raise NoGoTemplate(f"the {role} message's content is not rendered as it is")
        wraps[role] = (before, after)
        previous = text
    head = _render(tokenizer, messages[:2])
    prompt = _render(tokenizer, messages[:2], generation_prompt=True)
    if not prompt.startswith(head) or wraps["assistant"][0] != prompt[len(head) :]:
        raise NoGoTemplate("the generation prompt is not the start of an assistant turn")
    # What the template adds when the conversation has no system message (SmolLM2 does).
    alone = _render(tokenizer, messages[1:2])
    user_turn = "".join(wraps["user"]).replace(_SENTINEL["user"], "")
    default_system = ""
    sys_before, sys_after = wraps["system"]
    inserted = alone.replace(_SENTINEL["user"], "")[: -len(user_turn) or None]
    if inserted.startswith(sys_before) and inserted.endswith(sys_after) and inserted:
        default_system = inserted[len(sys_before) : len(inserted) - len(sys_after)]
    elif inserted:
        raise NoGoTemplate("the template adds text before the first turn that is not a system turn")
    return wraps, wraps["assistant"][0], default_system


def _go_text(text: str) -> str:
    # Go templates have no escape for "{{": write it through a string action.
    return text.replace("{{", '{{ "{{" }}')


def go_template(tokenizer) -> tuple[str, list[str], str]:
    """Ollama's TEMPLATE, its stop strings and the default SYSTEM prompt for ``tokenizer``;
    raises :class:`NoGoTemplate` when the Jinja template cannot be written per message."""
    wraps, prompt, default_system = _pieces(tokenizer)
    branches = []
    # "{{ else if" without "-": a trimming action would eat the previous turn's newline
    for keyword, role in zip(("if", "else if", "else if"), ROLES, strict=True):
        before, after = wraps[role]
        branches.append(
            f'{{{{ {keyword} eq .Role "{role}" }}}}{_go_text(before)}{{{{ .Content }}}}'
            f"{_go_text(after)}"
        )
    template = "{{- range .Messages }}" + "".join(branches) + "{{ end }}{{ end }}"
    template += _go_text(prompt)
    end_of_turn = wraps["assistant"][1].strip()
    stops = [s for s in dict.fromkeys([end_of_turn, tokenizer.eos_token]) if s]
    return template, stops, default_system


def _quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def ollama_modelfile(
    tokenizer,
    *,
    base_model: str,
    adapter_dir: str | None,
    merged_dir: str | None = None,
    gguf_file: str | None = None,
) -> str:
    """The Modelfile text: ``FROM`` the merged GGUF file when given, else the merged weights, else
    the base with ``ADAPTER`` (paths relative to the model folder, where ``ollama create -f
    Modelfile`` is run)."""
    lines = [f"# Ollama Modelfile for a fine-tune of {base_model}. In this folder run:"]
    lines.append("#   ollama create my-model -f Modelfile")
    if gguf_file:
        lines.append(f"FROM ./{gguf_file}")
    elif merged_dir:
        lines.append(f"FROM ./{merged_dir}")
    else:
        lines.append(f"# ./base: the base model's safetensors folder ({base_model}); put it here")
        lines.append("FROM ./base")
        if adapter_dir:
            lines.append(f"ADAPTER ./{adapter_dir}")
    try:
        template, stops, default_system = go_template(tokenizer)
    except NoGoTemplate as exc:
        lines.append(f"# No TEMPLATE: the base model's chat template cannot be translated ({exc}).")
        return "\n".join(lines) + "\n"
    if '"""' in template or '"""' in default_system:
        lines.append(
            '# No TEMPLATE: the chat template contains """, which a Modelfile cannot hold.'
        )
        return "\n".join(lines) + "\n"
    lines.append(f'TEMPLATE """{template}"""')
    if default_system:
        lines.append(f'SYSTEM """{default_system}"""')
    lines += [f"PARAMETER stop {_quoted(stop)}" for stop in stops]
    return "\n".join(lines) + "\n"


def modelfile_for(tokenizer, config: Any, *, merged: bool, gguf: bool = False) -> str:
    """The Modelfile a model folder gets from :func:`training.recipe.artifacts.save_model`
    (``FROM ./model.gguf`` when the folder has the merged GGUF)."""
    return ollama_modelfile(
        tokenizer,
        base_model=config.base_model,
        adapter_dir="weights" if config.uses_adapter else None,
        merged_dir="merged" if merged else (None if config.uses_adapter else "weights"),
        gguf_file="model.gguf" if gguf else None,
    )
