"""Does a value read as generated (a key, a random password) rather than typed or a placeholder?

Pure judgements over one string, shared by the secret rules (:mod:`.secret_formats`,
:mod:`.secrets`): Shannon entropy, character classes, placeholders and demo values (also in
leet spelling: ``P@ssw0rd``), words, repeats and runs; and the mask that findings show instead
of the value.
"""

from __future__ import annotations

import math
import re
from collections import Counter

MAX_VALUE_CHARS = 200


def shannon_entropy(text: str) -> float:
    """Bits per character of ``text`` under its own character frequencies (0 for "")."""
    n = len(text)
    if not n:
        return 0.0
    return -sum(c / n * math.log2(c / n) for c in Counter(text).values())


def mask_secret(value: str) -> str:
    """``"ghp_… (40 chars)"``: the first 4 characters (fewer for a value under 16: a quarter of
    it at most, so a short password is not half shown) and the length."""
    shown = min(4, len(value) // 4)
    return f"{value[:shown]}… ({len(value)} chars)"


# --- plausibility: a value a provider or a generator produced, not a placeholder ---------------

# Placeholders and demo values, looked for in the lower-cased value (and its de-leeted spelling).
_PLACEHOLDER_WORDS = (
    "your",
    "example",
    "sample",
    "dummy",
    "fake",
    "placeholder",
    "changeme",
    "change_me",
    "redacted",
    "insert",
    "replace",
    "enter",
    "here",
    "xxxx",
    "****",
    "....",
    "…",
    "password",
    "passwd",
    "passw",
    "secret",
    "apikey",
    "api_key",
    "api-key",
    "token",
    "qwerty",
    "letmein",
    "welcome",
    "admin",
    "default",
    "todo",
)
_LEET = str.maketrans({"@": "a", "4": "a", "3": "e", "1": "i", "!": "i", "0": "o", "$": "s"})
_LEET_L = str.maketrans({"1": "l", "5": "s", "7": "t", "|": "l"})
# Template, environment and code references: not a literal at all.
_REFERENCE_MARKERS = (
    "${",
    "{{",
    "%(",
    "<",
    ">",
    "...",
    "process.env",
    "os.environ",
    "getenv",
    "env(",
)
_CAMEL_PARTS = re.compile(r"[A-Z]?[a-z]{1,40}|[A-Z]{1,40}(?![a-z])|[0-9]{1,40}|[^A-Za-z0-9]{1,40}")
_HEX = re.compile(r"[0-9a-f]{1,200}|[0-9A-F]{1,200}")


def is_placeholder(value: str) -> bool:
    lower = value.lower()
    if any(marker in lower for marker in _REFERENCE_MARKERS) or value[0] in "$%{[<@":
        return True
    spellings = {lower, lower.translate(_LEET), lower.translate(_LEET_L).translate(_LEET)}
    return any(word in spelling for spelling in spellings for word in _PLACEHOLDER_WORDS)


def repeats_or_runs(value: str) -> bool:
    """Five equal characters in a row, or six ascending ones (``abcdef``, ``123456``)."""
    lower = value.lower()
    same = run = 1
    for a, b in zip(lower, lower[1:], strict=False):
        same = same + 1 if a == b else 1
        run = run + 1 if ord(b) - ord(a) == 1 else 1
        if same >= 5 or run >= 6:
            return True
    return False


def _word_like(value: str) -> bool:
    """Mostly made of words (``MySuperSecretPassword1``): letters in runs of four or more
    lower-case letters (after an optional capital) cover at least 60% of the value."""
    covered = sum(
        len(part)
        for part in _CAMEL_PARTS.findall(value)
        if len(part) >= 4 and part[1:].islower() and part.isalpha()
    )
    return covered >= 0.6 * len(value)


def char_classes(value: str) -> int:
    return sum(
        (
            any(c.islower() for c in value),
            any(c.isupper() for c in value),
            any(c.isdigit() for c in value),
            any(not c.isalnum() for c in value),
        )
    )


def random_enough(value: str, min_chars: int) -> float | None:
    """The entropy of ``value`` when it reads as generated (random) rather than typed, else None.

    Thresholds (bits per character): hex of 16+ characters ≥ 3.0; other values of 16+
    characters ≥ min(4.0, log2(n) − 0.6) with two character classes; shorter values
    (passwords, ``min_chars`` ≤ n < 16) need three classes and log2(n) − 0.6, i.e. nearly all
    characters distinct. Placeholders, words, repeats and runs never qualify.
    """
    n = len(value)
    if n < min_chars or n > MAX_VALUE_CHARS or is_placeholder(value):
        return None
    if repeats_or_runs(value) or _word_like(value):
        return None
    entropy = shannon_entropy(value)
    if n >= 16 and _HEX.fullmatch(value):
        return entropy if entropy >= 3.0 and any(c.isdigit() for c in value) else None
    classes = char_classes(value)
    if n >= 16:
        ok = classes >= 2 and entropy >= min(4.0, math.log2(n) - 0.6)
    else:
        ok = classes >= 3 and entropy >= math.log2(n) - 0.6
    return entropy if ok else None


_FORMAT_PLACEHOLDERS = ("example", "sample", "dummy", "fake", "placeholder", "redacted", "your")
_FORMAT_MARKERS = ("xxxx", "XXXX", "****", "....", "…", "<", ">", "${", "{{")


def plausible_body(body: str) -> bool:
    """The variable part of a known format: no placeholder word or mark, no repeat or run."""
    lower = body.lower()
    return (
        not any(word in lower for word in _FORMAT_PLACEHOLDERS)
        and not any(mark in body for mark in _FORMAT_MARKERS)
        and not repeats_or_runs(body)
    )
