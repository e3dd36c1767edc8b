"""Regular expressions written by users, matched only with RE2 (linear time, no backtracking).

Python's ``re`` backtracks: ``^(a+)+$`` against ``"a" * 28 + "!"`` takes half a minute and
doubles with every character (SECURITY: ReDoS). RE2 answers in time linear in the text and
refuses what it cannot do that way (back-references, look-around, repetitions over 1000), so a
pattern RE2 compiles can be matched against any text. RE2 ships inside pyarrow
(``pyarrow.compute.match_substring_regex``), already a dependency.

Linear is not yet cheap: RE2 costs up to (text length) × (states of the pattern), and counted
repetitions multiply states (``(.{1000})+x`` takes 9 s over 200 KB). So a pattern is also refused
when :func:`pattern_cost`, an over-estimate of its states, exceeds MAX_PATTERN_COST, and when it
is longer than MAX_PATTERN_CHARS.

RE2's syntax is closer to JSON Schema's ECMA-262 patterns than ``re``'s: ``$`` matches only at
the end (``re`` also matches before a final newline) and ``\\d`` means ASCII digits.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

MAX_PATTERN_CHARS = 1000
MAX_PATTERN_COST = 256
TOO_LONG = f"is longer than {MAX_PATTERN_CHARS} characters"
TOO_COSTLY = (
    f"repeats too much to match quickly ({{cost}} states, at most {MAX_PATTERN_COST}): "
    "lower the counts in {{n,m}} or nest fewer repetitions"
)
UNSUPPORTED = "not supported by the linear-time regex engine (RE2): {reason}"
NOT_TEXT = "must be text"
_PROBE = pa.array([""], type=pa.string())  # an empty array would not compile the pattern


def re2_error(pattern) -> str | None:
    """Why RE2 cannot use ``pattern`` (a message for the user), or None when it can."""
    if not isinstance(pattern, str):
        return NOT_TEXT
    if len(pattern) > MAX_PATTERN_CHARS:
        return TOO_LONG
    try:
        pc.match_substring_regex(_PROBE, pattern)
    except UnicodeEncodeError:
        return UNSUPPORTED.format(reason="unpaired surrogate")
    except pa.ArrowInvalid as exc:
        return UNSUPPORTED.format(reason=str(exc).removeprefix("Invalid regular expression: "))
    cost = pattern_cost(pattern)
    if cost > MAX_PATTERN_COST:
        return TOO_COSTLY.format(cost=cost)
    return None


def _repeat_at(pattern: str, i: int) -> tuple[int, int] | None:
    """``(factor, end)`` of a counted repetition ``{n}``, ``{n,}`` or ``{n,m}`` starting at i."""
    end = pattern.find("}", i)
    body = pattern[i + 1 : end] if end > 0 else ""
    low, comma, high = body.partition(",")
    if not low.isdigit() or (high and not high.isdigit()):
        return None
    factor = int(high) if high else int(low) + (1 if comma else 0)
    return max(factor, 1), end + 1


def _atom_cost(atom: str) -> int:
    # Unicode classes compile to many UTF-8 byte ranges: (\p{L}){120} is 60 times .{120}.
    return 8 if ("\\p" in atom or "\\P" in atom or "\\x{" in atom or not atom.isascii()) else 1


def pattern_cost(pattern: str) -> int:
    """An over-estimate of RE2's states for ``pattern``: every atom one (a Unicode class eight),
    alternatives added, a quantified atom or group times its largest count, and a
    case-insensitive pattern twice."""
    frames = [0]  # the size of each open group so far
    last = 0  # the size of the atom or group a quantifier would apply to
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == "\\":
            start, i = i, i + 2
            if pattern[i - 1 : i] in ("p", "P", "x") and pattern[i : i + 1] == "{":
                i = pattern.find("}", i) + 1 or n
            last = _atom_cost(pattern[start:i])
        elif c == "[":
            j = i + 1 + (pattern[i + 1 : i + 2] == "^")
            j += pattern[j : j + 1] == "]"
            while j < n and pattern[j] != "]":
                j += 2 if pattern[j] == "\\" else 1
            i, last = j + 1, _atom_cost(pattern[i : j + 1])
        elif c == "(":
            i += 1
            if pattern[i : i + 1] == "?":
                close = min(
                    (k for k in (pattern.find(")", i), pattern.find(":", i)) if k > 0), default=n
                )
                if pattern[i + 1 : i + 2] in ("P", "<"):
                    close = pattern.find(">", i)
                elif pattern[close : close + 1] == ")":  # (?i): flags only, no group
                    i, last = close + 1, 0
                    continue
                i = close + 1
            frames.append(0)
            continue
        elif c == ")":
            last = frames.pop() + 1 if len(frames) > 1 else 1
            i += 1
        elif c in "*+?":
            frames[-1] += 1
            i += 1
            continue
        elif c == "{" and (repeat := _repeat_at(pattern, i)):
            factor, i = repeat
            frames[-1] += last * (factor - 1)
            last *= factor
            continue
        else:
            last = 1
            i += 1
        frames[-1] += last
    cost = sum(frames)
    return cost * 2 if "(?" in pattern and "i" in pattern else cost


def re2_search(pattern: str, text: str) -> bool:
    """Whether ``pattern`` matches anywhere in ``text`` (JSON Schema's ``pattern``)."""
    return re2_search_many(pattern, [text])[0]


def re2_search_many(pattern: str, texts: list[str]) -> list[bool]:
    """:func:`re2_search` for many texts with one compilation of ``pattern``."""
    if not texts:
        return []
    try:
        array = pa.array(texts, type=pa.string())
    except UnicodeEncodeError:
        # An unpaired surrogate cannot be UTF-8; match the others, that one as its WTF-8 bytes.
        data = [t.encode("utf-8", "surrogatepass") for t in texts]
        array = pa.array(data, type=pa.binary())
    return pc.match_substring_regex(array, pattern).to_pylist()
