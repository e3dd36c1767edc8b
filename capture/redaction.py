"""PII redaction of a log before it is stored (a team setting, ``Team.log_redact_pii``).

Pure module: plain values in, plain values out. It finds what the dataset checks flag —
email addresses and phone numbers (``datasets_app.checks.patterns``) and secrets
(``datasets_app.checks.secrets``: known token formats, passwords in database URLs,
high-entropy assignments) — and replaces each match with a typed placeholder::

    >>> redact_text("Mail jane.doe@example.com or call +1 415 555 0100")
    ('Mail [EMAIL] or call [PHONE]', {'EMAIL': 1, 'PHONE': 1})

Matches are found in the original text, then replaced from the end, so a placeholder is never
searched again; overlapping matches (a database password that reads as an email's local part)
become one placeholder covering both, named after the weightier kind (secret, email, phone).
"""

from __future__ import annotations

from datasets_app.checks import patterns
from datasets_app.checks.screens import byte_classes
from datasets_app.checks.secrets import find_secrets, may_contain_secret

EMAIL = "EMAIL"
PHONE = "PHONE"
SECRET = "SECRET"
RANK = (SECRET, EMAIL, PHONE)  # an overlap of two is named after the first of them here
MIN_PHONE_DIGITS = 7
MAX_DEPTH = 64  # metadata is parsed under the same cap (finetunedb.strictjson)


def _spans(text: str) -> list[tuple[int, int, str]]:
    found = []
    if "@" in text:
        found += [(m.start(), m.end(), EMAIL) for m in patterns.EMAIL.finditer(text)]
    data = text.encode("utf-8", "surrogatepass")
    # Not the checks' phone screen (patterns.may_contain_phone): it wants a space, "(" or a
    # line start before "+", so '"+44 20 7946 0958"' in tool arguments would get through.
    # Seven digits is the one thing every PHONE match has.
    if len(data) - len(data.translate(None, b"0123456789")) >= MIN_PHONE_DIGITS:
        found += [(m.start(), m.end(), PHONE) for m in patterns.PHONE.finditer(text)]
    if may_contain_secret(text, byte_classes(data), data):
        found += [(m.start, m.start + len(m.value), SECRET) for m in find_secrets(text)]
    return found


def redact_text(text: str) -> tuple[str, dict[str, int]]:
    """``text`` with every email, phone number and secret replaced, and how many of each."""
    kept: list[list] = []
    for start, stop, kind in sorted(_spans(text)):
        if kept and start < kept[-1][1]:
            # overlapping matches become one placeholder over both, of the weightier kind
            last = kept[-1]
            last[1] = max(last[1], stop)
            last[2] = min(last[2], kind, key=RANK.index)
        else:
            kept.append([start, stop, kind])
    counts: dict[str, int] = {}
    out = text
    for start, stop, kind in reversed(kept):
        out = out[:start] + f"[{kind}]" + out[stop:]
        counts[kind] = counts.get(kind, 0) + 1
    return out, counts


def _add(total: dict[str, int], more: dict[str, int]) -> None:
    for kind, n in more.items():
        total[kind] = total.get(kind, 0) + n


def _message(message: dict, counts: dict[str, int]) -> dict:
    out = message
    if isinstance(message.get("content"), str):
        text, found = redact_text(message["content"])
        if found:
            out = {**message, "content": text}
            _add(counts, found)
    calls = message.get("tool_calls")
    if isinstance(calls, list):
        new_calls = []
        for call in calls:
            function = call.get("function") if isinstance(call, dict) else None
            if isinstance(function, dict) and isinstance(function.get("arguments"), str):
                text, found = redact_text(function["arguments"])
                if found:
                    call = {**call, "function": {**function, "arguments": text}}
                    _add(counts, found)
            new_calls.append(call)
        if new_calls != calls:
            out = {**out, "tool_calls": new_calls}
    return out


def _value(value, counts: dict[str, int], depth: int = 0):
    if isinstance(value, str):
        text, found = redact_text(value)
        _add(counts, found)
        return text
    if depth >= MAX_DEPTH:
        return value
    if isinstance(value, dict):
        return {k: _value(v, counts, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [_value(v, counts, depth + 1) for v in value]
    return value


def redact_log(
    *, messages: list, response: dict | None, metadata: dict, error: dict | None
) -> tuple[list, dict | None, dict, dict | None, dict[str, int]]:
    """The four parts of a validated log with PII replaced, and the counts by kind.

    Message contents and tool-call arguments, the metadata's string values (keys stay) and
    the error's message are redacted; roles, names and tool definitions are not.
    """
    counts: dict[str, int] = {}
    messages = [_message(m, counts) for m in messages]
    if response is not None:
        response = _message(response, counts)
    metadata = _value(metadata, counts)
    if error is not None and isinstance(error.get("message"), str):
        text, found = redact_text(error["message"])
        if found:
            error = {**error, "message": text}
            _add(counts, found)
    return messages, response, metadata, error, counts
