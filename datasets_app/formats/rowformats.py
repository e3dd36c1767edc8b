"""Row formats: how to recognise each one and how to map a row of it to canonical content.

Each mapper takes the parsed row (a dict) and returns canonical content (``messages``, ``tools``?,
``metadata``?) or, for self-instruct, a list of them; it raises :class:`MapError` when the row does
not fit. Validation against the canonical schema happens afterwards, in one place.
"""

from __future__ import annotations

from typing import NamedTuple

from .messages import (
    MSG_NOT_A_LIST,
    MSG_NOT_TEXT,
    ROLE_ALIASES,
    RowContext,
    calls_from,
    collect_metadata,
    link_tool_results,
    normalize_message,
    parse_embedded_json,
    tools_from,
    wrong,
)
from .validate import is_plainly_valid

MSG_MISSING = "the field {!r} is missing"
MSG_UNKNOWN_SPEAKER = (
    "unknown speaker {!r}; expected human, gpt, system, function_call or observation"
)
MSG_NO_INSTANCES = "instances must be a non-empty list of {input, output} objects"

OPENAI_KEYS = frozenset(("messages", "tools", "functions"))


class Checked(NamedTuple):
    """Content a mapper has already found canonical, so the reader need not validate it again."""

    content: dict


def _finish(content: dict, obj: dict, known: frozenset, ctx: RowContext) -> dict:
    metadata = collect_metadata(obj, known, ctx)
    if metadata:
        content["metadata"] = metadata
    return content


def _text(obj: dict, key: str, fmt: str, required: bool = True) -> str | None:
    value = obj.get(key)
    if value is None:
        if required:
            raise wrong(fmt, MSG_MISSING.format(key), key)
        return None
    if type(value) is not str:
        raise wrong(fmt, MSG_NOT_TEXT.format(key), key)
    return value


def _messages_list(value, what: str, ctx: RowContext, offset: int = 0) -> list:
    value = parse_embedded_json(value, what, ctx.fmt)
    if type(value) is not list:
        raise wrong(ctx.fmt, MSG_NOT_A_LIST.format(what), what)
    return [normalize_message(m, ctx, offset + i) for i, m in enumerate(value)]


def map_openai(obj: dict) -> dict:
    ctx = RowContext("openai")
    messages = obj.get("messages")
    content = {"messages": messages}
    tools = obj.get("tools")
    if tools:
        content["tools"] = tools
    elif obj.get("functions"):
        # the legacy spelling of tools
        tools = obj["functions"]
        content["tools"] = tools_from(tools, ctx.fmt)
    if len(obj) == 1 and is_plainly_valid(content):
        return Checked(content)
    if not is_plainly_valid(content):
        # the slow path: typed content parts, legacy function calls, loss weights, ...
        content["messages"] = _messages_list(messages, "messages", ctx)
        link_tool_results(content["messages"], ctx)
        if tools:
            content["tools"] = tools_from(tools, ctx.fmt)
    return _finish(content, obj, OPENAI_KEYS, ctx)


def _sharegpt_turns(turns, ctx: RowContext, path: str, start: int = 0) -> list:
    turns = parse_embedded_json(turns, path, ctx.fmt)
    if type(turns) is not list:
        raise wrong(ctx.fmt, MSG_NOT_A_LIST.format(path), path)
    return [_sharegpt_turn(t, ctx, f"{path}[{i}]", start + i) for i, t in enumerate(turns)]


def _sharegpt_turn(turn, ctx: RowContext, path: str, index: int) -> dict:
    if type(turn) is str:
        return {"role": "assistant", "content": turn}
    if type(turn) is not dict:
        raise wrong(ctx.fmt, "each turn must be an object with from and value", path)
    speaker = turn.get("from", turn.get("role"))
    value = turn.get("value", turn.get("content"))
    if speaker == "function_call":
        return {"role": "assistant", "content": None, "tool_calls": calls_from(value, ctx, path)}
    role = ROLE_ALIASES.get(speaker) if type(speaker) is str else None
    if role is None:
        raise wrong(ctx.fmt, MSG_UNKNOWN_SPEAKER.format(speaker), f"{path}.from")
    if type(value) is list:
        return normalize_message({"role": role, "content": value}, ctx, index)
    if type(value) is not str:
        raise wrong(ctx.fmt, MSG_NOT_TEXT.format(f"{path}.value"), f"{path}.value")
    return {"role": role, "content": value}


def _system_first(obj: dict, fmt: str) -> list:
    system = _text(obj, "system", fmt, required=False)
    return [{"role": "system", "content": system}] if system else []


SHAREGPT_KEYS = frozenset(("conversations", "system", "tools"))


def map_sharegpt(obj: dict) -> dict:
    ctx = RowContext("sharegpt")
    messages = _system_first(obj, ctx.fmt) + _sharegpt_turns(
        obj.get("conversations"), ctx, "conversations"
    )
    link_tool_results(messages, ctx)
    content = {"messages": messages}
    tools = tools_from(obj.get("tools"), ctx.fmt)
    if tools:
        content["tools"] = tools
    return _finish(content, obj, SHAREGPT_KEYS, ctx)


SHAREGPT_PREFERENCE_KEYS = frozenset(("conversations", "system", "tools", "chosen", "rejected"))


def map_sharegpt_preference(obj: dict) -> dict:
    ctx = RowContext("sharegpt_preference")
    messages = _system_first(obj, ctx.fmt) + _sharegpt_turns(
        obj.get("conversations"), ctx, "conversations"
    )
    chosen = _sharegpt_turn(obj.get("chosen"), ctx, "chosen", len(messages))
    rejected = _sharegpt_turn(obj.get("rejected"), ctx, "rejected", len(messages))
    content = {"messages": [*messages, chosen]}
    link_tool_results(content["messages"], ctx)
    tools = tools_from(obj.get("tools"), ctx.fmt)
    if tools:
        content["tools"] = tools
    _finish(content, obj, SHAREGPT_PREFERENCE_KEYS, ctx)
    content.setdefault("metadata", {})["rejected"] = [rejected]
    return content


OPENAI_PREFERENCE_KEYS = frozenset(("input", "preferred_output", "non_preferred_output"))


def map_openai_preference(obj: dict) -> dict:
    ctx = RowContext("openai_preference")
    given = obj.get("input")
    if type(given) is not dict:
        raise wrong(ctx.fmt, "input must be an object with messages", "input")
    prompt = _messages_list(given.get("messages"), "input.messages", ctx)
    chosen = _messages_list(obj.get("preferred_output"), "preferred_output", ctx, len(prompt))
    rejected = _messages_list(obj.get("non_preferred_output"), "non_preferred_output", ctx)
    content = {"messages": prompt + chosen}
    tools = tools_from(given.get("tools"), ctx.fmt)
    if tools:
        content["tools"] = tools
    extra = {k: v for k, v in given.items() if k not in ("messages", "tools")}
    _finish(content, {**extra, **obj}, OPENAI_PREFERENCE_KEYS, ctx)
    content.setdefault("metadata", {})["rejected"] = rejected
    return content


def _turns_or_text(value, role: str, what: str, ctx: RowContext, offset: int) -> list:
    if type(value) is str:
        return [{"role": role, "content": value}]
    if value is None:
        raise wrong(ctx.fmt, MSG_MISSING.format(what), what)
    return _messages_list(value, what, ctx, offset)


CHOSEN_REJECTED_KEYS = frozenset(("prompt", "chosen", "rejected", "system"))


def map_prompt_chosen_rejected(obj: dict) -> dict:
    ctx = RowContext("prompt_chosen_rejected")
    prompt = _system_first(obj, ctx.fmt)
    if obj.get("prompt") is not None:
        prompt += _turns_or_text(obj["prompt"], "user", "prompt", ctx, len(prompt))
    chosen = _turns_or_text(obj.get("chosen"), "assistant", "chosen", ctx, len(prompt))
    rejected = _turns_or_text(obj.get("rejected"), "assistant", "rejected", ctx, len(prompt))
    if obj.get("prompt") is None:
        # "implicit prompt": both sides repeat the conversation they answer
        shared = 0
        while shared < min(len(chosen), len(rejected)) - 1 and chosen[shared] == rejected[shared]:
            shared += 1
        prompt, chosen, rejected = prompt + chosen[:shared], chosen[shared:], rejected[shared:]
    content = {"messages": prompt + chosen}
    _finish(content, obj, CHOSEN_REJECTED_KEYS, ctx)
    content.setdefault("metadata", {})["rejected"] = rejected
    return content


PROMPT_COMPLETION_KEYS = frozenset(("prompt", "completion", "system"))


def map_prompt_completion(obj: dict) -> dict:
    ctx = RowContext("prompt_completion")
    messages = _system_first(obj, ctx.fmt)
    messages += _turns_or_text(obj.get("prompt"), "user", "prompt", ctx, len(messages))
    messages += _turns_or_text(obj.get("completion"), "assistant", "completion", ctx, len(messages))
    return _finish({"messages": messages}, obj, PROMPT_COMPLETION_KEYS, ctx)


def _instruction_text(instruction: str, given: str | None) -> str:
    # LLaMA-Factory's Alpaca converter joins the two with one newline; so do we
    return "\n".join(part for part in (instruction, given) if part)


ALPACA_KEYS = frozenset(("instruction", "input", "output", "response", "system", "history"))


def map_alpaca(obj: dict) -> dict:
    ctx = RowContext("alpaca")
    fmt = ctx.fmt
    answer_key = "output" if "output" in obj else "response"
    messages = _system_first(obj, fmt)
    history = obj.get("history") or []
    history = parse_embedded_json(history, "history", fmt)
    if type(history) is not list:
        raise wrong(fmt, MSG_NOT_A_LIST.format("history"), "history")
    for i, pair in enumerate(history):
        if type(pair) is not list or len(pair) != 2 or not all(type(t) is str for t in pair):
            raise wrong(fmt, "history must hold [question, answer] pairs of text", f"history[{i}]")
        messages += [
            {"role": "user", "content": pair[0]},
            {"role": "assistant", "content": pair[1]},
        ]
    user = _instruction_text(_text(obj, "instruction", fmt), _text(obj, "input", fmt, False))
    messages.append({"role": "user", "content": user})
    messages.append({"role": "assistant", "content": _text(obj, answer_key, fmt)})
    return _finish({"messages": messages}, obj, ALPACA_KEYS, ctx)


QUESTION_ANSWER_KEYS = frozenset(("question", "answer", "system"))


def map_question_answer(obj: dict) -> dict:
    ctx = RowContext("question_answer")
    messages = _system_first(obj, ctx.fmt)
    messages.append({"role": "user", "content": _text(obj, "question", ctx.fmt)})
    messages.append({"role": "assistant", "content": _text(obj, "answer", ctx.fmt)})
    return _finish({"messages": messages}, obj, QUESTION_ANSWER_KEYS, ctx)


SELF_INSTRUCT_KEYS = frozenset(("instruction", "instances"))


def map_self_instruct(obj: dict) -> list[dict]:
    """One example per instance: the instruction with that instance's input, and its output."""
    ctx = RowContext("self_instruct")
    instruction = _text(obj, "instruction", ctx.fmt)
    instances = parse_embedded_json(obj.get("instances"), "instances", ctx.fmt)
    if type(instances) is not list or not instances:
        raise wrong(ctx.fmt, MSG_NO_INSTANCES, "instances")
    metadata = collect_metadata(obj, SELF_INSTRUCT_KEYS, ctx)
    out = []
    for i, instance in enumerate(instances):
        if type(instance) is not dict:
            raise wrong(ctx.fmt, MSG_NO_INSTANCES, f"instances[{i}]")
        user = _instruction_text(instruction, _text(instance, "input", ctx.fmt, False))
        answer = _text(instance, "output", ctx.fmt)
        content = {
            "messages": [
                {"role": "user", "content": user},
                {"role": "assistant", "content": answer},
            ]
        }
        row_metadata = {**metadata, "instance": i} if len(instances) > 1 else dict(metadata)
        if row_metadata:
            content["metadata"] = row_metadata
        out.append(content)
    return out


# order matters: the first whose fields are all present wins
SNIFF_RULES = (
    ("openai", ("messages",)),
    ("openai_preference", ("input", "preferred_output")),
    ("sharegpt_preference", ("conversations", "chosen", "rejected")),
    ("sharegpt", ("conversations",)),
    ("prompt_chosen_rejected", ("chosen", "rejected")),
    ("self_instruct", ("instruction", "instances")),
    ("alpaca", ("instruction", "output")),
    ("alpaca", ("instruction", "response")),
    ("prompt_completion", ("prompt", "completion")),
    ("question_answer", ("question", "answer")),
)

MAPPERS = {
    "openai": map_openai,
    "openai_preference": map_openai_preference,
    "sharegpt": map_sharegpt,
    "sharegpt_preference": map_sharegpt_preference,
    "prompt_chosen_rejected": map_prompt_chosen_rejected,
    "prompt_completion": map_prompt_completion,
    "alpaca": map_alpaca,
    "question_answer": map_question_answer,
    "self_instruct": map_self_instruct,
}
ROW_FORMATS = tuple(MAPPERS)


def sniff(obj: dict) -> str | None:
    """The row format whose identifying fields this row has, or None."""
    for name, keys in SNIFF_RULES:
        if all(k in obj for k in keys):
            return name
    return None
