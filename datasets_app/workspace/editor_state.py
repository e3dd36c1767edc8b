"""The editor's unsaved state: parsed from the example or from a posted form, changed by the
structural operations (add, delete, move a turn), and turned back into canonical content.

The form names turns ``t-<i>-<field>``; JSON fields (tool calls, tools, metadata) arrive as text
and their parse errors are reported on the field, keyed by its form name.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from ..models import Example, ExampleStatus

ROLES = ("system", "user", "assistant", "tool")
MAX_TURNS = 500
BAD_JSON = "Not valid JSON: {error}"
TOO_DEEP = "arrays and objects are nested too deeply"
NOT_A_LIST = "Must be a JSON list."
NOT_AN_OBJECT = "Must be a JSON object."
BAD_RATING = "Choose a rating from 1 to 5, or none."
BAD_ROLE = "Choose a role."


@dataclass
class Turn:
    role: str = "user"
    content: str = ""
    content_null: bool = False
    name: str = ""
    weight: int | None = None
    tool_calls: str = ""
    tool_call_id: str = ""


@dataclass
class EditorState:
    turns: list[Turn]
    tools: str = ""
    metadata: str = ""
    tags: str = ""
    rating: str = ""
    status: str = ExampleStatus.DRAFT
    notes: str = ""
    expected_revision: int = 0
    errors: dict[str, str] = field(default_factory=dict)


def _dump(value) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False) if value else ""


def turn_from_message(message: dict) -> Turn:
    return Turn(
        role=str(message.get("role", "")),
        content=message.get("content") or "",
        content_null=message.get("content") is None,
        name=str(message.get("name") or ""),
        weight=message.get("weight"),
        tool_calls=_dump(message.get("tool_calls")),
        tool_call_id=str(message.get("tool_call_id") or ""),
    )


def state_from_content(messages, tools, metadata, *, example: Example) -> EditorState:
    return EditorState(
        turns=[turn_from_message(m) for m in messages],
        tools=_dump(tools),
        metadata=_dump(metadata),
        tags=", ".join(sorted(t.name for t in example.tags.all())),
        rating=str(example.rating or ""),
        status=example.status,
        notes=example.notes,
        expected_revision=example.revision,
    )


def state_from_example(example: Example) -> EditorState:
    rev = example.current_revision
    return state_from_content(rev.messages, rev.tools, rev.metadata, example=example)


def state_from_post(data) -> EditorState:
    try:
        count = min(max(int(data.get("turn_count", 0)), 0), MAX_TURNS)
    except (TypeError, ValueError):
        count = 0
    turns = []
    for i in range(count):
        p = f"t-{i}-"
        weight = None
        if data.get(p + "weight") == "present":
            # The checkbox shows an unset weight as "trained"; keep it unset unless unchecked, so
            # saving an untouched example does not write weights it never had.
            original = data.get(p + "weight_orig", "")
            weight = (None if original == "" else 1) if data.get(p + "train") else 0
        turns.append(
            Turn(
                role=data.get(p + "role", ""),
                content=data.get(p + "content", "").replace("\r\n", "\n"),
                content_null=data.get(p + "content_null") == "1",
                name=data.get(p + "name", "").strip(),
                weight=weight,
                tool_calls=data.get(p + "tool_calls", "").strip(),
                tool_call_id=data.get(p + "tool_call_id", "").strip(),
            )
        )
    try:
        expected = int(data.get("expected_revision", 0))
    except (TypeError, ValueError):
        expected = 0
    return EditorState(
        turns=turns,
        tools=data.get("tools", "").strip(),
        metadata=data.get("metadata", "").strip(),
        tags=data.get("tags", ""),
        rating=data.get("rating", ""),
        status=data.get("status", ""),
        notes=data.get("notes", "").replace("\r\n", "\n"),
        expected_revision=expected,
    )


def apply_operation(state: EditorState, op: str) -> int | None:
    """Apply ``add``, ``add:<i>``, ``delete:<i>``, ``up:<i>``, ``down:<i>``; returns the index of
    the turn to focus, or None when ``op`` is not structural."""
    name, _, arg = op.partition(":")
    turns = state.turns
    try:
        i = int(arg) if arg else len(turns) - 1
    except ValueError:
        return None
    if name == "add" and len(turns) < MAX_TURNS:
        last = turns[i].role if 0 <= i < len(turns) else "assistant"
        role = "assistant" if last in ("user", "tool") else "user"
        turns.insert(i + 1, Turn(role=role, weight=None))
        return i + 1
    if not 0 <= i < len(turns):
        return None
    if name == "delete":
        del turns[i]
        return min(i, len(turns) - 1) if turns else None
    if name in ("up", "down"):
        j = i - 1 if name == "up" else i + 1
        if 0 <= j < len(turns):
            turns[i], turns[j] = turns[j], turns[i]
            return j
        return i
    return None


def _parse_json(text: str, key: str, errors: dict, kind: type):
    if not text:
        return None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        errors[key] = BAD_JSON.format(error=exc.msg + f" (line {exc.lineno}, column {exc.colno})")
        return None
    except RecursionError:
        errors[key] = BAD_JSON.format(error=TOO_DEEP)
        return None
    if not isinstance(value, kind):
        errors[key] = NOT_A_LIST if kind is list else NOT_AN_OBJECT
        return None
    return value


def state_content(state: EditorState) -> tuple[dict, dict[str, str]]:
    """Canonical content of the state and the form errors found on the way (field → message).

    Fields with a JSON error are left out of the content, so live checks still run on the rest.
    """
    errors: dict[str, str] = {}
    messages = []
    for i, t in enumerate(state.turns):
        message: dict = {"role": t.role}
        if t.role not in ROLES:
            errors[f"t-{i}-role"] = BAD_ROLE
        calls = None
        if t.role == "assistant":
            calls = _parse_json(t.tool_calls, f"t-{i}-tool_calls", errors, list)
        # an assistant turn that only calls tools may keep its content null
        message["content"] = None if (calls and not t.content and t.content_null) else t.content
        if t.name:
            message["name"] = t.name
        if t.role == "assistant" and t.weight is not None:
            message["weight"] = t.weight
        if calls:
            message["tool_calls"] = calls
        if t.role == "tool" and t.tool_call_id:
            message["tool_call_id"] = t.tool_call_id
        messages.append(message)
    content: dict = {"messages": messages}
    tools = _parse_json(state.tools, "tools", errors, list)
    if tools:
        content["tools"] = tools
    metadata = _parse_json(state.metadata, "metadata", errors, dict)
    content["metadata"] = metadata or {}
    return content, errors


def state_annotations(state: EditorState) -> tuple[dict, dict[str, str]]:
    errors: dict[str, str] = {}
    rating = None
    if state.rating not in ("", None):
        try:
            rating = int(state.rating)
        except ValueError:
            errors["rating"] = BAD_RATING
    tags = [t.strip() for t in state.tags.split(",") if t.strip()]
    values = {"tags": sorted(set(tags)), "rating": rating, "notes": state.notes}
    values["status"] = state.status
    return values, errors
