"""Export shapes that trainers and runtimes load without edits (issue 24).

``hf_messages``: the conversational shape TRL's ``SFTTrainer`` and Hugging Face ``datasets`` read,
``{"messages": [...], "tools": [...]}``. Canonical content lets an assistant turn that calls tools
have ``content: null``; chat templates that concatenate ``message['content']`` (SmolLM2's, and
most ChatML ones) then fail with ``'dict object' has no attribute 'content'`` or a type error.
Here every message has a string ``content`` (empty when the turn only calls tools), tool calls
keep the OpenAI shape with ``arguments`` as a JSON string, and every row has a ``tools`` list
(empty when the example declares none) so all rows share one column set.

Worked example::

    >>> encode_hf_messages({"messages": [
    ...     {"role": "user", "content": "Weather?"},
    ...     {"role": "assistant", "content": None, "tool_calls": [
    ...         {"id": "call_0", "type": "function",
    ...          "function": {"name": "weather", "arguments": "{}"}}]}]})["messages"][1]["content"]
    ''

``rendered``: each row as the text a base model's chat template makes of it plus the character
spans ``[start, end)`` the loss is computed on. The rendering belongs to the training recipe, so
the writer takes it as a ``renderer`` callable (content → ``{"text", "trained_spans"}``) that
raises :class:`~.encoders.Unrepresentable` for a row the template cannot render.
"""

from __future__ import annotations

HF_MESSAGES = "hf_messages"
RENDERED = "rendered"
_CALL_KEYS = ("id", "type", "function")


def _call(call: dict) -> dict:
    function = call["function"]
    out = {k: call[k] for k in _CALL_KEYS if k in call}
    out["type"] = call.get("type") or "function"
    out["function"] = {"name": function["name"], "arguments": function["arguments"]}
    return out


def encode_hf_messages(content: dict, include_metadata: bool = False) -> dict:
    """One ``hf_messages`` line for canonical ``content``; accepts every canonical example."""
    messages = []
    for message in content["messages"]:
        m = dict(message)
        if m.get("content") is None:
            m["content"] = ""
        if m.get("tool_calls"):
            m["tool_calls"] = [_call(c) for c in m["tool_calls"]]
        messages.append(m)
    out = {"messages": messages, "tools": content.get("tools") or []}
    if include_metadata and content.get("metadata"):
        out["metadata"] = content["metadata"]
    return out
