"""Precompiled patterns for the content rules.

Every quantifier that can meet a long run of matching characters is bounded, so no pattern
backtracks super-linearly on hostile input (SECURITY: ReDoS); callers pre-filter with cheap
substring tests (``"@" in text``) so most texts never reach a regex at all.
"""

from __future__ import annotations

import math
import re
from collections import Counter

from datasets_app.checks.screens import byte_classes, may_contain_phone_classes

# C0 controls except tab, newline and carriage return; DEL; C1 controls.
CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# U+FFFD, unpaired surrogates, zero-width space, word joiner, BOM, Mongolian vowel separator,
# bidi embedding/override/isolate controls, noncharacters. ZWJ/ZWNJ are legitimate (emoji,
# Indic and Persian scripts) and are not listed.
INVALID_UNICODE = re.compile(
    "[\ufffd\ud800-\udfff\u200b\u2060\ufeff\u180e\u202a-\u202e\u2066-\u2069\ufffe\uffff]"
)
# Characters the remove_invalid_characters fix may delete (U+FFFD stays: what it replaced is lost).
REMOVABLE_INVALID = re.compile(
    "[\ud800-\udfff\u200b\u2060\ufeff\u180e\u202a-\u202e\u2066-\u2069\ufffe\uffff]"
)

MUSTACHE = re.compile(r"\{\{\s{0,3}[A-Za-z_][\w.\- ]{0,40}?\s{0,3}\}\}")
# The brace comes first and the look-behind after it so the engine scans for "{" alone.
SINGLE_BRACE = re.compile(r"\{(?<![{\w$%/]\{)[a-z_][a-z0-9_]{1,30}\}(?!\})")
# Single-brace placeholders (outside URL paths) count only outside code and format strings;
# upper-case share is not judged on code either (SQL keywords, constants).
CODE_HINT = re.compile(r"```|\bdef |\bfunction\b|\breturn\b|[;=]|\bf\"|\.format\(|\$\{|=>")
ANGLE_PLACEHOLDER = re.compile(r"<\s?no\s?(?:input|output)\s?>", re.IGNORECASE)
BRACKET_PLACEHOLDER = re.compile(
    r"\[(?:INSERT|YOUR|ADD|ENTER|PLACEHOLDER|FILL IN|NAME OF)\b[^\]\n]{0,60}\]", re.IGNORECASE
)
BRACKET_WORDS = re.compile(r"\[(?i:insert|your|add|enter|placeholder|fill in|name of)\b")
PLACEHOLDER_ANSWERS = frozenset(
    {
        "n/a",
        "na",
        "n.a.",
        "tbd",
        "todo",
        "null",
        "nan",
        "-",
        "--",
        "...",
        "…",
        "?",
        "<nooutput>",
        "<no output>",
        "no output",
        "<noinput>",
        "placeholder",
    }
)

_URL_TAIL = re.compile(r"[^\s<>\"'`]{1,2000}")
_URL_SCHEMES = ("http", "https", "ftp")


def find_url(text: str) -> str | None:
    """The first http(s)/ftp URL or www. address; str.find does the scanning, not a regex."""
    start = text.find("://")
    while start > 0:
        scheme_start = start
        while scheme_start > 0 and start - scheme_start < 5 and text[scheme_start - 1].isalpha():
            scheme_start -= 1
        tail = _URL_TAIL.match(text, start + 3)
        if tail and text[scheme_start:start].lower() in _URL_SCHEMES:
            return text[scheme_start : tail.end()]
        start = text.find("://", start + 3)
    start = text.find("www.")
    while start >= 0:
        tail = _URL_TAIL.match(text, start + 4)
        if tail and "." in tail.group() and (start == 0 or not text[start - 1].isalnum()):
            return text[start : tail.end()]
        start = text.find("www.", start + 4)
    return None


EMAIL = re.compile(
    r"(?<![\w.%+-])[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63}){0,8}\.[A-Za-z]{2,24}\b"
)
PHONE = re.compile(
    r"(?<![\w+])(?:\+\d{1,3}[ .-]?(?:\(\d{1,4}\)|\d{1,4})(?:[ .-]\d{2,4}){2,4}"
    r"|\(\d{3}\)[ .-]?\d{3}[ .-]\d{4}|\d{3}[.-]\d{3}[.-]\d{4})(?![\w-])"
)
# (kind, pattern); the value is masked in messages, never echoed.
SECRETS = (
    ("OpenAI API key", re.compile(r"\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,200}")),
    ("AWS access key id", re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")),
    (
        "GitHub token",
        re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})"),
    ),
    ("Slack token", re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,200}")),
    ("private key", re.compile(r"-----BEGIN (?:[A-Z]{1,10} )?PRIVATE KEY-----")),
)
# Matched against lower-cased text (a (?i) pattern is several times slower on long texts).
GENERIC_SECRET = re.compile(
    r"(?:api[_-]?key|secret(?:[_-]?key)?|access[_-]?token|auth[_-]?token|token|passw(?:or)?d)"
    r"[\"']?\s{0,3}[:=]\s{0,3}[\"']?([a-z0-9_\-/+=.]{16,200})"
)
_KELVIN = "\u212a".encode()
MIN_SECRET_ENTROPY = 3.5  # bits per character; placeholders like YOUR_API_KEY_HERE score lower

_MARKDOWN_LINE = r"[ \t]{0,3}(?:#{1,6} |[-*+] |\d{1,3}[.)] |```|> |\|.{0,200}\|)"
MARKDOWN = re.compile("(?m)^" + _MARKDOWN_LINE)
# The same test split in two: the first line, then lines after "\n" (a literal the engine
# scans for quickly, where a multi-line "^" is tried at every position).
MARKDOWN_FIRST_LINE = re.compile(_MARKDOWN_LINE)
MARKDOWN_LATER_LINE = re.compile("\n" + _MARKDOWN_LINE)
MARKDOWN_LINE_STARTS = frozenset("#-*+>|0123456789 \t")
TERMINAL_PUNCTUATION = frozenset(".!?。！？…")
CLOSERS = "\"')]*_»”’"

UPPER_ASCII = bytes(range(65, 91))
LOWER_ASCII = bytes(range(97, 123))


def shannon_entropy(text: str) -> float:
    counts = Counter(text)
    n = len(text)
    return -sum(c / n * math.log2(c / n) for c in counts.values())


def looks_like_secret(value: str) -> bool:
    """High entropy and mixed character classes: a real key rather than ``your_api_key_here``."""
    classes = sum(
        (
            any(c.isdigit() for c in value),
            any(c.islower() for c in value),
            any(c.isupper() for c in value),
        )
    )
    return classes >= 2 and shannon_entropy(value) >= MIN_SECRET_ENTROPY


def may_contain_phone(text: str) -> bool:
    """Cheap screen: at least 7 digits and a phone-like digit shape somewhere."""
    return may_contain_phone_classes(byte_classes(text.encode("utf-8", "surrogatepass")))


def may_contain_secret(text: str, classes: bytes | None = None, data: bytes | None = None) -> bool:
    """Cheap screen for :func:`find_secret`. Scans the UTF-8 bytes (``data``, when the caller has
    them; ``classes``, their byte classes, save two scans): every needle is ASCII."""
    if data is None:
        data = text.encode("utf-8", "surrogatepass")
    # "sk-", "xox…-" and "-----BEGIN" all contain "-"; AKIA/ASIA are four capitals in a row.
    if b"-" in data and (b"sk-" in data or b"xox" in data or b"-----BEGIN" in data):
        return True
    if (classes is None or b"AAAA" in classes) and (b"AKIA" in data or b"ASIA" in data):
        return True
    if b"_" in data and (
        b"ghp_" in data
        or b"gho_" in data
        or b"ghu_" in data
        or b"ghs_" in data
        or b"ghr_" in data
        or b"github_pat_" in data
    ):
        return True
    if b"=" not in data and b":" not in data:
        return False
    # The keywords of the lower-cased text: bytes.lower() folds ASCII only, and the only other
    # character str.lower() turns into a keyword letter is the Kelvin sign (into "k").
    if _KELVIN in data:
        data = text.lower().encode("utf-8", "surrogatepass")
    lower = data.lower()
    return b"key" in lower or b"secret" in lower or b"token" in lower or b"passw" in lower


def find_secret(text: str) -> tuple[str, str] | None:
    """``(kind, value)`` of the first secret-looking value in ``text``, or None."""
    for kind, pattern in SECRETS:
        match = pattern.search(text)
        if match:
            return kind, match.group()
    lower = text.lower()
    # lower() keeps offsets only for ASCII; elsewhere read the value from the lowered copy's span
    # of the original when lengths agree, which they do for every cased script but a few letters
    same_offsets = len(lower) == len(text)
    for match in GENERIC_SECRET.finditer(lower):
        value = text[match.start(1) : match.end(1)] if same_offsets else match.group(1)
        if looks_like_secret(value):
            return "generic secret", value
    return None


def mask(value: str) -> str:
    return value[:4] + "…" if len(value) > 8 else "…"
