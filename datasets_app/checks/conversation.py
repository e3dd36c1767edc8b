"""Conversation rules: turn order, the final turn, tool calls against tool results and tools."""

from __future__ import annotations

import orjson

from datasets_app.checks.catalog import finding

_ALTERNATING = frozenset({"user", "assistant", "system"})


def check_conversation(messages: list[tuple[int, dict]], tools, out: list) -> None:
    """``messages`` are the ``(index, message)`` pairs that are objects (see check_structure)."""
    prev_role = None
    seen_user = seen_assistant_first = seen_non_system = False
    call_ids: set = set()
    used_names: dict[str, str] = {}
    weighted = unweighted = 0
    for i, message in messages:
        role = message.get("role")
        if role == prev_role and role in _ALTERNATING:
            out.append(
                finding(
                    "consecutive_same_role",
                    f"Two {role} turns in a row (messages {i - 1} and {i}).",
                    f"messages[{i}].role",
                )
            )
        if role == "system":
            if seen_non_system:
                out.append(
                    finding(
                        "system_not_first",
                        f"System message at position {i}, after the conversation started.",
                        f"messages[{i}]",
                    )
                )
        else:
            seen_non_system = True
        if role == "user":
            seen_user = True
        elif role == "assistant":
            if not seen_user and not seen_assistant_first:
                seen_assistant_first = True
                out.append(
                    finding(
                        "assistant_before_user",
                        "The assistant speaks before any user message.",
                        f"messages[{i}]",
                    )
                )
            if "weight" in message:
                weighted += 1
            else:
                unweighted += 1
            calls = message.get("tool_calls")
            if isinstance(calls, list):
                _check_calls(i, calls, call_ids, used_names, out)
        elif role == "tool":
            call_id = message.get("tool_call_id")
            if call_id not in call_ids:
                out.append(
                    finding(
                        "orphan_tool_message",
                        f"tool_call_id {call_id!r} matches no earlier tool call.",
                        f"messages[{i}].tool_call_id",
                    )
                )
        prev_role = role
    if messages:
        last_i, last = messages[-1]
        if last.get("role") != "assistant":
            out.append(
                finding(
                    "not_ending_with_assistant",
                    f"The conversation ends on a {last.get('role')} turn.",
                    f"messages[{last_i}]",
                )
            )
    if weighted and unweighted:
        out.append(
            finding(
                "weight_partially_set",
                f"{weighted} assistant turns set weight and {unweighted} do not.",
                "messages",
            )
        )
    _check_declared(tools, used_names, out)


def _check_calls(i: int, calls: list, call_ids: set, used_names: dict, out: list) -> None:
    for j, call in enumerate(calls):
        if not isinstance(call, dict):
            continue
        call_ids.add(call.get("id"))
        function = call.get("function")
        if not isinstance(function, dict):
            continue
        name = function.get("name")
        if isinstance(name, str):
            used_names.setdefault(name, f"messages[{i}].tool_calls[{j}].function.name")
        arguments = function.get("arguments")
        if isinstance(arguments, str):
            try:
                parsed = orjson.loads(arguments)
            except orjson.JSONDecodeError:
                parsed = None
                problem = "do not parse as JSON"
            else:
                problem = "are not a JSON object"
            if not isinstance(parsed, dict):
                out.append(
                    finding(
                        "tool_arguments_not_json",
                        f"Arguments of the call to {name!r} {problem}.",
                        f"messages[{i}].tool_calls[{j}].function.arguments",
                    )
                )


def _check_declared(tools, used_names: dict, out: list) -> None:
    declared: dict[str, int] = {}
    if isinstance(tools, list):
        for k, tool in enumerate(tools):
            function = tool.get("function") if isinstance(tool, dict) else None
            if isinstance(function, dict) and isinstance(function.get("name"), str):
                declared.setdefault(function["name"], k)
    for name, path in used_names.items():
        if name not in declared:
            out.append(
                finding(
                    "tool_not_declared",
                    f"The tool {name!r} is called but not declared in tools.",
                    path,
                )
            )
    for name, k in declared.items():
        if name not in used_names:
            out.append(
                finding(
                    "tool_never_used",
                    f"The tool {name!r} is declared but never called.",
                    f"tools[{k}].function.name",
                )
            )
