"""Turn the many spellings of a chat message, tool and tool call into canonical ones.

Used by the row mappers. Anything that cannot be mapped raises :class:`MapError`; anything the
canonical shape has no place for but that must not be lost (reasoning parts) goes to metadata.
"""

from __future__ import annotations

import orjson

from . import errors as E
from .jsonparse import parse_json
from .validate import is_metadata_key

EMBEDDED_MAX_DEPTH = 64

ROLE_ALIASES = {
    "system": "system",
    "developer": "system",
    "user": "user",
    "human": "user",
    "assistant": "assistant",
    "gpt": "assistant",
    "model": "assistant",
    "tool": "tool",
    "function": "tool",
    "observation": "tool",
}
TEXT_PART_TYPES = frozenset(("text", "input_text", "output_text"))
MSG_NOT_A_LIST = "{} must be a list"
MSG_BROKEN_EMBEDDED_JSON = "{} holds JSON text that is not valid JSON ({})"
MSG_NOT_EMBEDDED_JSON = (
    "{} must be a list or an object (or a string holding one as JSON), not the text {!r}"
)
MSG_NOT_TEXT = "{} must be a string"
MSG_BAD_TOOL = "a tool must be an object with a function name"
MSG_BAD_CALL = "a tool call must be an object with a name and arguments"
MSG_LOSS_WEIGHT = "loss_weight must be 0 or 1 (and only assistant turns can be trained on)"
MSG_METADATA_NOT_OBJECT = "metadata must be an object"
MSG_METADATA_CONFLICT = "the field {!r} is given both at the top level and in metadata"


class MapError(Exception):
    def __init__(self, code: str, message: str, path: str | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.path = path


def wrong(fmt: str, why: str, path: str | None = None) -> MapError:
    return MapError(E.WRONG_FORMAT, E.MSG_WRONG_FORMAT.format(fmt, why), path)


class RowContext:
    """Per-row state: ids of the tool calls this mapper built, and parts kept as metadata."""

    __slots__ = ("fmt", "calls", "generated", "reasoning")

    def __init__(self, fmt: str):
        self.fmt = fmt
        self.calls = 0
        self.generated: set[str] = set()
        self.reasoning: list[dict] = []

    def call_id(self, given=None) -> str:
        self.calls += 1
        # deterministic, so the same file imports to the same content hash
        new = given if given is not None else f"call_{self.calls - 1}"
        self.generated.add(new)
        return new


def parse_embedded_json(value, what: str, fmt: str):
    """Values such as ShareGPT's ``tools`` hold JSON inside a string."""
    if type(value) is not str:
        return value
    parsed = parse_json(value, 0, EMBEDDED_MAX_DEPTH)
    if type(parsed) is E.RowError:
        if parsed.code == E.INVALID_JSON:
            # The line itself is valid JSON: what is wrong is this field's type. Say so, rather
            # than "this line is not valid JSON".
            shown = value if len(value) <= 40 else value[:40] + "…"
            if value.lstrip()[:1] in ("[", "{"):
                try:
                    orjson.loads(value)
                    reason = "it does not parse"
                except orjson.JSONDecodeError as exc:
                    reason = str(exc)
                raise wrong(fmt, MSG_BROKEN_EMBEDDED_JSON.format(what, reason), what)
            raise wrong(fmt, MSG_NOT_EMBEDDED_JSON.format(what, shown), what)
        raise MapError(parsed.code, f"{what}: {parsed.message}", what)
    return parsed


def tools_from(value, fmt: str) -> list | None:
    """Canonical tools from a list, a JSON string, or bare function definitions."""
    if value is None or value == "":
        return None
    value = parse_embedded_json(value, "tools", fmt)
    if type(value) is not list:
        raise wrong(fmt, MSG_NOT_A_LIST.format("tools"), "tools")
    tools = []
    for i, tool in enumerate(value):
        if type(tool) is dict and "function" in tool and tool.get("type", "function") == "function":
            tools.append({"type": "function", "function": tool["function"]})
        elif type(tool) is dict and "name" in tool:
            tools.append({"type": "function", "function": tool})
        else:
            raise wrong(fmt, MSG_BAD_TOOL, f"tools[{i}]")
    return tools or None


def arguments_text(arguments) -> str:
    if type(arguments) is str:
        return arguments
    return orjson.dumps(arguments).decode()


def calls_from(value, ctx: RowContext, path: str) -> list[dict]:
    """Tool calls from ``{"name", "arguments"}`` (or a list of them, or their JSON text)."""
    value = parse_embedded_json(value, path, ctx.fmt)
    items = value if type(value) is list else [value]
    calls = []
    for item in items:
        if type(item) is dict and "function" in item and "name" not in item:
            given, function = item.get("id"), item["function"]
        else:
            given, function = (item.get("id") if type(item) is dict else None), item
        if type(function) is not dict or type(function.get("name")) is not str:
            raise wrong(ctx.fmt, MSG_BAD_CALL, path)
        calls.append(
            {
                "id": ctx.call_id(given),
                "type": "function",
                "function": {
                    "name": function["name"],
                    "arguments": arguments_text(function.get("arguments", {})),
                },
            }
        )
    return calls


def text_from_parts(parts: list, ctx: RowContext, index: int, message: dict) -> str | None:
    """Join text parts; keep reasoning in metadata; tool_call parts become tool calls."""
    texts = []
    calls = []
    for j, part in enumerate(parts):
        kind = part.get("type") if type(part) is dict else None
        value = part.get("text", part.get("value")) if kind else None
        if kind in TEXT_PART_TYPES and type(value) is str:
            texts.append(value)
        elif kind in ("reasoning", "thinking") and type(value) is str:
            ctx.reasoning.append({"message": index, "text": value})
        elif kind == "tool_call":
            calls.extend(calls_from(value, ctx, f"messages[{index}].content[{j}]"))
        else:
            raise MapError(
                E.UNSUPPORTED_PART,
                E.MSG_UNSUPPORTED_PART.format(kind),
                f"messages[{index}].content[{j}]",
            )
    if calls:
        message["tool_calls"] = calls
    if not texts and calls:
        return None
    return "".join(texts)


def normalize_message(m, ctx: RowContext, index: int):
    """An OpenAI-like message in canonical form; unknown keys are left for validation to name."""
    if type(m) is not dict:
        return m
    out = dict(m)
    role = m.get("role")
    role = ROLE_ALIASES.get(role, role) if type(role) is str else role
    out["role"] = role
    content = m.get("content")
    if type(content) is list:
        out["content"] = text_from_parts(content, ctx, index, out)
    if "function_call" in out:
        out.setdefault("tool_calls", [])
        out["tool_calls"] = out["tool_calls"] + calls_from(
            out.pop("function_call"), ctx, f"messages[{index}].function_call"
        )
        out.setdefault("content", None)
    weight = out.get("weight")
    if type(weight) is float and weight in (0.0, 1.0):
        out["weight"] = int(weight)
    if "loss_weight" in out:
        loss = out.pop("loss_weight")
        if loss not in (0, 1) or type(loss) is bool or (loss == 1 and role != "assistant"):
            raise wrong(ctx.fmt, MSG_LOSS_WEIGHT, f"messages[{index}].loss_weight")
        # trained is the default for assistant turns, so 1 leaves no trace in the content
        if loss == 0 and role == "assistant" and "weight" not in out:
            out["weight"] = 0
    return out


def link_tool_results(messages: list, ctx: RowContext) -> None:
    """Give results of calls this mapper built (ShareGPT, typed parts, legacy) their call ids, by position."""
    if not ctx.generated:
        return
    for i, m in enumerate(messages):
        calls = m.get("tool_calls") if type(m) is dict else None
        if not calls or any(c["id"] not in ctx.generated for c in calls):
            continue
        following = []
        for later in messages[i + 1 :]:
            if type(later) is not dict or later.get("role") != "tool" or "tool_call_id" in later:
                break
            following.append(later)
        if len(following) == len(calls):
            for call, result in zip(calls, following, strict=True):
                result["tool_call_id"] = call["id"]


def collect_metadata(obj: dict, known: frozenset, ctx: RowContext) -> dict:
    """Top-level fields the format does not use, plus an explicit ``metadata`` object."""
    metadata = parse_embedded_json(obj.get("metadata"), "metadata", ctx.fmt)
    if metadata is None:
        metadata = {}
    elif type(metadata) is not dict:
        raise wrong(ctx.fmt, MSG_METADATA_NOT_OBJECT, "metadata")
    else:
        metadata = dict(metadata)
    for key, value in obj.items():
        if key in known or key == "metadata":
            continue
        if not is_metadata_key(key):
            raise MapError(E.INVALID_METADATA_KEY, E.MSG_INVALID_METADATA_KEY.format(key), key)
        if key in metadata:
            raise wrong(ctx.fmt, MSG_METADATA_CONFLICT.format(key), key)
        metadata[key] = value
    if ctx.reasoning:
        if "reasoning" in metadata:
            raise wrong(ctx.fmt, MSG_METADATA_CONFLICT.format("reasoning"), "reasoning")
        metadata["reasoning"] = ctx.reasoning
    return metadata
