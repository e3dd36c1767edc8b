"""Secrets in message texts: known credential formats, and literal high-entropy values assigned
to a secret-ish name.

Two verdicts, two rules: a value in a credential format a provider issues (an AWS key id, a
GitHub or Slack token, a PEM private key block, …) is ``contains_secret`` (an error: it blocks a
freeze); a literal that only *looks* random, assigned to a name such as ``password`` or
``API_KEY``, is ``possible_secret`` (a warning). Names alone never count: ``process.env.SECRET``,
``ConvertTo-SecureString`` or ``secret_key=settings.SECRET_KEY`` assign no literal.

The formats live in :mod:`.secret_formats`, the judgement of a value (entropy, placeholders)
in :mod:`.secret_values`; this module finds the assignments and screens texts. Patterns run from
fixed anchors (a format's needle, a separator, "://"), every quantifier is bounded, and at most
MAX_SEPARATORS separators and MAX_CANDIDATES assignments are looked at per text, so the work is
linear in the text and capped. Values are never echoed: :func:`mask_secret` keeps a few leading
characters and the length.
"""

from __future__ import annotations

import re

from datasets_app.checks.screens import byte_classes
from datasets_app.checks.secret_formats import (
    DB_URL_SCREEN,
    FORMAT_NEEDLES,
    MAX_CANDIDATES,
    SecretMatch,
    find_known_formats,
)
from datasets_app.checks.secret_values import mask_secret, random_enough

__all__ = [
    "ASSIGNMENT_SCREEN",
    "BEARER_SCREEN",
    "DB_URL_SCREEN",
    "FORMAT_NEEDLES",
    "SecretMatch",
    "find_assignments",
    "find_known_formats",
    "find_secrets",
    "mask_secret",
    "may_contain_secret",
]

# Assignments are found from their separators (":", "=", ":=", "=>"): the name before one is
# read backwards and must END in a secret word (``max_tokens``: yes, and then too short;
# ``tokenizer``, ``PasswordResetTokenGenerator``, ``password_hash``: no); the value after it
# is matched forwards. A case-insensitive keyword pattern tried at every position is ~10x slower.
_SECRET_NAME_END = re.compile(
    r"(?:(?P<password>passw(?:or)?d|passphrase|pwd)|secret|token|api[_-]?key|apikey|credentials?"
    r"|(?:access|private|secret|signing|encryption|master|auth|client|app|account)[_-]?key)s?$"
)
_SEPARATOR = re.compile(r"[:=]")
_VALUE = re.compile(
    r"(?P<sep>:=|=>|=|:)(?!=)[ \t]{0,3}"
    r"(?:(?P<q>[\"'`])(?P<quoted>[^\"'`\s\\]{1,200})(?P=q)"
    r"|(?P<bare>[^\s\"'`,;&()\[\]{}<>]{1,200}))"
)
MAX_SEPARATORS = 4096  # separators looked at per text
# Every name _SECRET_NAME_END accepts contains one of these (lower-cased).
_ASSIGNMENT_WORDS = (b"pass", b"pwd", b"secret", b"token", b"key", b"credential")
BEARER = re.compile(r"\b[Bb]earer[ \t]{1,3}(?P<bare>[A-Za-z0-9._~+/-]{20,500}=*)")
# For the screens (lower-case text): every assignment find_assignments judges, a secret word
# ending the name, then a separator and 8 value characters (no value it accepts is shorter);
# every bearer token it judges.
ASSIGNMENT_SCREEN = (
    r"(?:pass|pwd|secret|token|key|credential)[a-z]{0,8}[\"'\]]{0,2}[\t ]{0,3}"
    r"(?::=|=>|=|:)[\t ]{0,3}[\"'`]?[^\s\"'`]{8}"
)
BEARER_SCREEN = r"earer[\t ]{1,3}[a-z0-9._~+/-]{20}"
_ASSIGNMENT_BYTES = re.compile(f"{ASSIGNMENT_SCREEN}|{BEARER_SCREEN}".encode())
_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.$-")
_DOTTED = re.compile(r"[A-Za-z_$][\w$]{0,100}(?:\.[A-Za-z_$][\w$]{0,100}){1,10}")
_AWS_SECRET = re.compile(r"[A-Za-z0-9/+]{40}")


def _name_before(text: str, separator: int) -> tuple[str, int]:
    """The name just before the separator at ``separator`` (``DB_PASSWORD``, ``this.apiKey``,
    ``'secret_key']``, spaces and up to two quotes or brackets between) and where it begins."""
    end = separator
    while end > 0 and separator - end < 3 and text[end - 1] in " \t":
        end -= 1
    spaced = end
    while end > 0 and spaced - end < 2 and text[end - 1] in "\"']":
        end -= 1
    begin = end
    while begin > 0 and end - begin < 60 and text[begin - 1] in _NAME_CHARS:
        begin -= 1
    return text[begin:end], begin


def _at_line_start(text: str, begin: int) -> bool:
    line_start = text.rfind("\n", 0, begin) + 1
    return not text[line_start:begin].strip(" \t-\"'#")


def _bare_literal(text: str, value_match: re.Match) -> str | None:
    """The bare value as a literal, or None when it is code (a call, an index, a dotted name, an
    identifier) or prose (``password: is required``)."""
    value = value_match.group("bare").rstrip(".,:!?")
    if not value or value[0] == "-":
        return None
    after = text[value_match.end("bare") : value_match.end("bare") + 1]
    if after in "([" and after:
        return None
    if _DOTTED.fullmatch(value) or not any(c.isdigit() for c in value):
        return None
    return value


def find_assignments(text: str, known: list[SecretMatch] = ()) -> list[SecretMatch]:
    """Literal values assigned to secret-ish names that read as generated, in text order; values
    inside a ``known`` format match are left out (that finding says more)."""
    spans = [(m.start, m.start + len(m.value)) for m in known]
    found = []
    lowered = text.encode("utf-8", "surrogatepass").lower()
    if any(word in lowered for word in _ASSIGNMENT_WORDS):
        judged = 0
        for count, separator in enumerate(_SEPARATOR.finditer(text)):
            if count >= MAX_SEPARATORS or judged >= MAX_CANDIDATES:
                break
            name, begin = _name_before(text, separator.start())
            name_end = _SECRET_NAME_END.search(name.lower()) if name else None
            if name_end is None:
                continue
            value_match = _VALUE.match(text, separator.start())
            if value_match is None:
                continue
            judged += 1
            result = _judge_assignment(text, value_match, name, begin, name_end, spans)
            if result:
                found.append(result)
    if "earer" in text:
        for count, match in enumerate(BEARER.finditer(text)):
            if count >= MAX_CANDIDATES:
                break
            value = match.group("bare")
            entropy = random_enough(value, 20)
            if entropy is not None and not _inside(match.start("bare"), spans):
                found.append(
                    SecretMatch(
                        "possible_secret",
                        "bearer token",
                        value,
                        match.start("bare"),
                        "Bearer",
                        entropy,
                    )
                )
    found.sort(key=lambda m: m.start)
    return found


def _inside(position: int, spans) -> bool:
    return any(start <= position < end for start, end in spans)


def _judge_assignment(text, value_match, name, begin, name_end, spans) -> SecretMatch | None:
    if value_match.group("quoted") is not None:
        value, start = value_match.group("quoted"), value_match.start("quoted")
    else:
        value = _bare_literal(text, value_match)
        start = value_match.start("bare")
        # "password: x" is prose unless the key starts its line (YAML, INI, headers); "=>" and
        # ":=" take quoted literals only
        sep = value_match.group("sep")
        if value is None or sep in ("=>", ":=") or (sep == ":" and not _at_line_start(text, begin)):
            return None
    lower_name = name.lower()
    if _inside(start, spans) or "public" in lower_name:  # publicKeyToken, public_key
        return None
    entropy = random_enough(value, 8 if name_end.group("password") else 16)
    if entropy is None:
        return None
    if "aws" in lower_name and "secret" in lower_name and _AWS_SECRET.fullmatch(value):
        return SecretMatch("contains_secret", "AWS secret access key", value, start, name, entropy)
    return SecretMatch("possible_secret", "high-entropy literal", value, start, name, entropy)


_DB_URL_BYTES = re.compile(DB_URL_SCREEN.encode())


def may_contain_secret(text: str, classes: bytes | None = None, data: bytes | None = None) -> bool:
    """Cheap screen for :func:`find_secrets`: never "no" where it finds something. Scans the UTF-8
    bytes (``data``) and their byte classes (``classes``, see screens.byte_classes), computed
    when not given; every needle is ASCII. One-byte tests (memchr speed) gate the longer ones."""
    if data is None:
        data = text.encode("utf-8", "surrogatepass")
    if classes is None:
        classes = byte_classes(data)
    if b"_" in data and (b"gh" in data or b"_pat_" in data or b"_live_" in data or b"hf_" in data):
        return True
    if b"-" in data and (b"sk-" in data or b"xox" in data or b"PRIVATE KEY" in data):
        return True
    if b"~" in data and b"Q~" in data:
        return True
    if b"://" in data and _DB_URL_BYTES.search(data):
        return True
    if b"AAAA" in classes and (
        b"AKIA" in data or b"ASIA" in data or b"ABIA" in data or b"ACCA" in data
    ):
        return True
    if (b"AAaa" in classes and b"AIza" in data) or (b"aaA" in classes and b"eyJ" in data):
        return True
    if b"AA" in classes and (b"SK" in data or b"SG." in data):
        return True
    if b"/" in data and b"hooks.slack.com" in data:
        return True
    # (AccountKey= and SharedAccessKey= hold "key=" too)
    lower = data.lower()
    if b"earer" in lower and _ASSIGNMENT_BYTES.search(lower):
        return True
    if b"=" not in data and b":" not in data:
        return False
    return any(word in lower for word in _ASSIGNMENT_WORDS) and bool(
        _ASSIGNMENT_BYTES.search(lower)
    )


def find_secrets(text: str) -> list[SecretMatch]:
    """Known formats and high-entropy assignments in ``text``, in text order."""
    known = find_known_formats(text)
    return sorted(known + find_assignments(text, known), key=lambda m: m.start)
