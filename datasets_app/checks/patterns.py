"""Precompiled patterns for the content rules.

Every quantifier that can meet a long run of matching characters is bounded, so no pattern
backtracks super-linearly on hostile input (SECURITY: ReDoS); callers pre-filter with cheap
substring tests (``"@" in text``) so most texts never reach a regex at all.
"""

from __future__ import annotations

import re

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


def may_contain_phone(text: str) -> bool:
    """Cheap screen: at least 7 digits and a phone-like digit shape somewhere."""
    return may_contain_phone_classes(byte_classes(text.encode("utf-8", "surrogatepass")))


def mask(value: str) -> str:
    return value[:4] + "…" if len(value) > 8 else "…"
