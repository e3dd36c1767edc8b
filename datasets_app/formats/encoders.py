"""Export encoders: canonical content → the JSON object one line of each format holds.

An encoder raises :class:`Unrepresentable` when the format has no place for part of the content
(tools in Alpaca, a weight in ShareGPT, ...). Every encoder except OpenAI's is also checked by
reading its output back with the matching import mapper: a row is written only when that gives
the same content hash, so no export silently drops content.
"""

from __future__ import annotations

import orjson

from datasets_app.canonical import canonical_bytes, content_object

from .messages import MapError
from .rowformats import map_alpaca, map_openai_preference, map_prompt_completion, map_sharegpt
from .trainer_formats import HF_MESSAGES, encode_hf_messages

MSG_TOOLS = "{} cannot hold tools or tool calls"
MSG_SHAPE = "{} holds a single user turn answered by one assistant turn"
MSG_ALPACA_SHAPE = "Alpaca holds an optional system prompt, then user/assistant turns in pairs"
MSG_EXTRA_FIELDS = "{} cannot hold message names or weights"
MSG_MIXED_CALL = "ShareGPT cannot hold an assistant turn with both text and tool calls"
MSG_NO_REJECTED = (
    "a preference row needs metadata.rejected (the rejected answer) and a final assistant turn"
)
MSG_READ_BACK = (
    "{} would not read back as the same conversation (e.g. tool call ids, names or weights)"
)


class Unrepresentable(Exception):
    """The format cannot hold this row without losing part of it."""


def _plain(messages: list, fmt: str) -> None:
    for m in messages:
        if "tool_calls" in m or m["role"] == "tool":
            raise Unrepresentable(MSG_TOOLS.format(fmt))
        if len(m) != 2:
            raise Unrepresentable(MSG_EXTRA_FIELDS.format(fmt))


def encode_openai(content: dict, include_metadata: bool = False) -> dict:
    out = {"messages": content["messages"]}
    if content.get("tools"):
        out["tools"] = content["tools"]
    if include_metadata and content.get("metadata"):
        out["metadata"] = content["metadata"]
    return out


def encode_prompt_completion(content: dict, include_metadata: bool = False) -> dict:
    messages = content["messages"]
    if content.get("tools"):
        raise Unrepresentable(MSG_TOOLS.format("prompt/completion"))
    _plain(messages, "prompt/completion")
    if [m["role"] for m in messages] != ["user", "assistant"]:
        raise Unrepresentable(MSG_SHAPE.format("prompt/completion"))
    out = {"prompt": messages[0]["content"], "completion": messages[1]["content"]}
    return _with_metadata(out, content, include_metadata)


def encode_alpaca(content: dict, include_metadata: bool = False) -> dict:
    messages = content["messages"]
    if content.get("tools"):
        raise Unrepresentable(MSG_TOOLS.format("Alpaca"))
    _plain(messages, "Alpaca")
    out = {}
    if messages[0]["role"] == "system":
        out["system"] = messages[0]["content"]
        messages = messages[1:]
    roles = [m["role"] for m in messages]
    if not roles or roles != ["user", "assistant"] * (len(roles) // 2):
        raise Unrepresentable(MSG_ALPACA_SHAPE)
    pairs = [
        [messages[i]["content"], messages[i + 1]["content"]] for i in range(0, len(messages), 2)
    ]
    if len(pairs) > 1:
        out["history"] = pairs[:-1]
    out["instruction"], out["output"] = pairs[-1]
    out["input"] = ""
    return _with_metadata(out, content, include_metadata)


def _arguments_value(arguments: str):
    # an object when that reads back to the same text, so LLaMA-Factory sees its usual shape
    try:
        parsed = orjson.loads(arguments)
    except orjson.JSONDecodeError:
        return arguments
    if type(parsed) is dict and orjson.dumps(parsed) == arguments.encode():
        return parsed
    return arguments


def _call_value(calls: list, first_index: int) -> str:
    items = []
    for k, call in enumerate(calls):
        function = call["function"]
        item = {"name": function["name"], "arguments": _arguments_value(function["arguments"])}
        if call["id"] != f"call_{first_index + k}":
            item["id"] = call["id"]
        items.append(item)
    return orjson.dumps(items[0] if len(items) == 1 else items).decode()


SHAREGPT_SPEAKERS = {"system": "system", "user": "human", "assistant": "gpt", "tool": "observation"}


def encode_sharegpt(content: dict, include_metadata: bool = False) -> dict:
    turns = []
    calls_seen = 0
    for m in content["messages"]:
        if "name" in m or "weight" in m:
            raise Unrepresentable(MSG_EXTRA_FIELDS.format("ShareGPT"))
        if m.get("tool_calls"):
            if m["content"] is not None:
                raise Unrepresentable(MSG_MIXED_CALL)
            turns.append(
                {"from": "function_call", "value": _call_value(m["tool_calls"], calls_seen)}
            )
            calls_seen += len(m["tool_calls"])
        else:
            turns.append({"from": SHAREGPT_SPEAKERS[m["role"]], "value": m["content"]})
    out = {"conversations": turns}
    if content.get("tools"):
        out["tools"] = orjson.dumps(content["tools"]).decode()
    return _with_metadata(out, content, include_metadata)


def encode_preference(content: dict, include_metadata: bool = False) -> dict:
    messages = content["messages"]
    rejected = (content.get("metadata") or {}).get("rejected")
    if not rejected or type(rejected) is not list or messages[-1]["role"] != "assistant":
        raise Unrepresentable(MSG_NO_REJECTED)
    given = {"messages": messages[:-1]}
    if content.get("tools"):
        given["tools"] = content["tools"]
    out = {"input": given, "preferred_output": messages[-1:], "non_preferred_output": rejected}
    if include_metadata:
        rest = {k: v for k, v in content["metadata"].items() if k != "rejected"}
        if rest:
            out["metadata"] = rest
    return out


def _with_metadata(out: dict, content: dict, include_metadata: bool) -> dict:
    if include_metadata and content.get("metadata"):
        out["metadata"] = content["metadata"]
    return out


# format → (encoder, import mapper that must read it back, name in messages)
ENCODERS = {
    "openai": (encode_openai, None, "OpenAI chat"),
    "prompt_completion": (encode_prompt_completion, map_prompt_completion, "prompt/completion"),
    "alpaca": (encode_alpaca, map_alpaca, "Alpaca"),
    "sharegpt": (encode_sharegpt, map_sharegpt, "ShareGPT"),
    "preference": (encode_preference, map_openai_preference, "preference"),
    # content null -> "" is the point of this format, so it is not read back
    HF_MESSAGES: (encode_hf_messages, None, "TRL/HF messages"),
}


def encode(fmt: str, content: dict, include_metadata: bool = False) -> dict:
    """The object to write for ``content``; raises :class:`Unrepresentable` when it cannot be."""
    encoder, mapper, label = ENCODERS[fmt]
    out = encoder(content, include_metadata)
    if mapper is not None:
        expected = canonical_bytes(content_object(content["messages"], content.get("tools")))
        try:
            back = mapper(orjson.loads(orjson.dumps(out)))
        except MapError:
            back = None
        if (
            back is None
            or canonical_bytes(content_object(back["messages"], back.get("tools"))) != expected
        ):
            raise Unrepresentable(MSG_READ_BACK.format(label))
        if fmt == "preference" and back["metadata"]["rejected"] != content["metadata"]["rejected"]:
            raise Unrepresentable(MSG_READ_BACK.format(label))
    return out
