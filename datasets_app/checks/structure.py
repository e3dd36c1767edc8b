"""Structure rules: the OpenAI cookbook's format errors over raw JSON.

Uploaded rows are linted with these before they become canonical; stored examples are already
valid against :data:`datasets_app.canonical.CONTENT_SCHEMA`, so on them nothing here fires.
"""

from __future__ import annotations

from datasets_app.canonical import ROLES
from datasets_app.checks.catalog import finding

EXAMPLE_KEYS = frozenset({"messages", "tools", "metadata"})
MESSAGE_KEYS = frozenset({"role", "content", "name", "weight", "tool_calls", "tool_call_id"})
_ROLES = frozenset(ROLES)


def _type_name(value) -> str:
    return {dict: "an object", list: "a list", str: "a string", type(None): "null"}.get(
        type(value), type(value).__name__
    )


def check_structure(content, out: list) -> list[tuple[int, dict]] | None:
    """Append structure findings to ``out``; return the ``(index, message)`` pairs that are objects.

    Returns None when there is no usable messages list, so later rules have nothing to read.
    """
    if not isinstance(content, dict):
        out.append(
            finding("example_not_object", f"The example is {_type_name(content)}, not an object.")
        )
        return None
    for key in sorted(content.keys() - EXAMPLE_KEYS, key=str):  # a set: sorted for a stable order
        out.append(finding("unrecognized_example_key", f"Unrecognized key {key!r}.", str(key)))
    messages = content.get("messages")
    if not isinstance(messages, list) or not messages:
        what = (
            "missing" if messages is None else ("empty" if messages == [] else _type_name(messages))
        )
        out.append(
            finding(
                "messages_missing", f"messages is {what}; it must be a non-empty list.", "messages"
            )
        )
        return None
    usable = []
    has_assistant = False
    for i, message in enumerate(messages):
        if not isinstance(message, dict):
            out.append(
                finding(
                    "message_not_object", f"Message {i} is {_type_name(message)}.", f"messages[{i}]"
                )
            )
            continue
        usable.append((i, message))
        if not message.keys() <= MESSAGE_KEYS or "role" not in message or "content" not in message:
            _check_keys(i, message, out)
        role = message.get("role")
        if role == "assistant":
            has_assistant = True
        elif role not in _ROLES and "role" in message:
            out.append(
                finding(
                    "unrecognized_role",
                    f"Role {role!r} is not one of {', '.join(ROLES)}.",
                    f"messages[{i}].role",
                )
            )
        text = message.get("content")
        if text is None:
            if "content" in message and not message.get("tool_calls"):
                out.append(
                    finding(
                        "missing_content",
                        "content is null and the message has no tool_calls.",
                        f"messages[{i}].content",
                    )
                )
        elif not isinstance(text, str):
            out.append(
                finding(
                    "missing_content",
                    f"content is {_type_name(text)}; it must be a string.",
                    f"messages[{i}].content",
                )
            )
        if "weight" in message:
            _check_weight(i, message, out)
        if "tool_calls" in message or "tool_call_id" in message:
            _check_tool_fields(i, message, out)
    if not has_assistant:
        out.append(
            finding(
                "missing_assistant_message", "The example has no assistant message.", "messages"
            )
        )
    tools = content.get("tools")
    if tools is not None:
        _check_tools(tools, out)
    return usable


def _check_keys(i: int, message: dict, out: list) -> None:
    missing = [k for k in ("role", "content") if k not in message]
    if missing:
        out.append(
            finding(
                "message_missing_key",
                f"Message {i} lacks {' and '.join(missing)}.",
                f"messages[{i}]",
            )
        )
    for key in sorted(map(str, message.keys() - MESSAGE_KEYS)):
        out.append(
            finding(
                "message_unrecognized_key",
                f"Unrecognized key {key!r} in message {i}.",
                f"messages[{i}].{key}",
            )
        )


def _check_weight(i: int, message: dict, out: list) -> None:
    weight = message["weight"]
    path = f"messages[{i}].weight"
    # bool is an int subclass; JSON true is not the integer 1 the API wants
    if type(weight) is not int or weight not in (0, 1):
        out.append(finding("invalid_weight", f"weight is {weight!r}; it must be 0 or 1.", path))
    elif message.get("role") != "assistant":
        out.append(
            finding(
                "invalid_weight",
                f"weight is only allowed on assistant messages, not {message.get('role')!r}.",
                path,
            )
        )


def _check_tool_fields(i: int, message: dict, out: list) -> None:
    role = message.get("role")
    if "tool_call_id" in message and (
        role != "tool" or not isinstance(message["tool_call_id"], str)
    ):
        out.append(
            finding(
                "invalid_tool_call",
                "tool_call_id must be a string on a tool message.",
                f"messages[{i}].tool_call_id",
            )
        )
    if "tool_calls" not in message:
        return
    calls = message["tool_calls"]
    if role != "assistant":
        out.append(
            finding(
                "invalid_tool_call",
                "Only assistant messages may carry tool_calls.",
                f"messages[{i}].tool_calls",
            )
        )
    if not isinstance(calls, list) or not calls:
        out.append(
            finding(
                "invalid_tool_call",
                "tool_calls must be a non-empty list.",
                f"messages[{i}].tool_calls",
            )
        )
        return
    for j, call in enumerate(calls):
        path = f"messages[{i}].tool_calls[{j}]"
        function = call.get("function") if isinstance(call, dict) else None
        if (
            not isinstance(function, dict)
            or not isinstance(call.get("id"), str)
            or call.get("type") != "function"
            or not isinstance(function.get("name"), str)
            or not isinstance(function.get("arguments"), str)
        ):
            out.append(
                finding(
                    "invalid_tool_call",
                    'A tool call needs id, type "function" and function {name, arguments: string}.',
                    path,
                )
            )


def _check_tools(tools, out: list) -> None:
    if not isinstance(tools, list):
        out.append(
            finding(
                "invalid_tool_call", f"tools is {_type_name(tools)}; it must be a list.", "tools"
            )
        )
        return
    for k, tool in enumerate(tools):
        function = tool.get("function") if isinstance(tool, dict) else None
        if (
            not isinstance(function, dict)
            or tool.get("type") != "function"
            or not isinstance(function.get("name"), str)
        ):
            out.append(
                finding(
                    "invalid_tool_call",
                    'A tool declaration needs type "function" and function.name.',
                    f"tools[{k}]",
                )
            )
