"""Final-number match (gsm8k and MATH style): the answer's number equals the reference's.

The number of a text is, in order of preference: the one after ``####`` (gsm8k's answer line),
the last ``\\boxed{...}``, else the last number written anywhere. Thousands separators, a sign
(``+``, ``-``, ``−``), currency and percent signs, decimals (``.5``, ``3.``) and fractions
(``3/4``, ``\\frac{3}{4}``, ``\\dfrac34``) are normalised to an exact :class:`Fraction`; two
numbers match when they differ by at most ``tolerance`` (absolute, or relative when asked).
Pure: no Django.
"""

from __future__ import annotations

import re
from fractions import Fraction

from .registry import Evaluator, Item, Param, Score, register, scored, unscored

REFERENCE_HAS_NO_NUMBER = "reference_has_no_number"
MAX_SCAN = 100_000  # characters of an answer read from its end

_NUMBER = re.compile(
    r"(?<![\w.])([-+−]?)\s?[$€£]?\s?((?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d*)?|\.\d+)"
    r"(?:\s?/\s?(\d+(?:\.\d+)?))?(?!\d)"
)
_HASHES = re.compile(r"####\s*([^\n]*)")
_BOXED = re.compile(r"\\boxed\s*\{")
_FRAC = re.compile(r"\\[dt]?frac\s*(?:\{([^{}]*)\}|(\d))\s*(?:\{([^{}]*)\}|(\d))")


def _braced(text: str, start: int) -> str | None:
    """The text inside the braces opening just before ``start`` (nested braces counted)."""
    depth = 1
    for i in range(start, min(len(text), start + 2_000)):
        if text[i] == "{":
            depth += 1
        elif text[i] == "}":
            depth -= 1
            if depth == 0:
                return text[start:i]
    return None


def _to_fraction(sign: str, whole: str, denominator: str | None) -> Fraction | None:
    value = Fraction(whole.replace(",", "").rstrip(".") or "0")
    if denominator is not None:
        den = Fraction(denominator)
        if den == 0:
            return None
        value /= den
    return -value if sign in ("-", "−") else value


def _last_number(text: str) -> Fraction | None:
    text = _FRAC.sub(
        lambda m: f"{m.group(1) or m.group(2)}/{m.group(3) or m.group(4)}",
        text.replace("\\!", "").replace("{,}", ","),
    )
    found = None
    for match in _NUMBER.finditer(text):
        found = _to_fraction(*match.groups()) if match else None
    return found


def extract_number(text: str) -> tuple[Fraction | None, str]:
    """The text's final answer as an exact fraction and where it came from
    (``####``, ``boxed``, ``last``), or ``(None, "")``.

    >>> extract_number("She pays 3 * 24 = 72 dollars.\\n#### 72")
    (Fraction(72, 1), '####')
    >>> extract_number("so the answer is $\\\\boxed{\\\\frac{3}{4}}$")
    (Fraction(3, 4), 'boxed')
    >>> extract_number("It costs $1,234.50 in total.")
    (Fraction(2469, 2), 'last')
    """
    text = text[-MAX_SCAN:]
    hashes = _HASHES.findall(text)
    if hashes:
        value = _last_number(hashes[-1])
        if value is not None:
            return value, "####"
    boxes = [m.end() for m in _BOXED.finditer(text)]
    for start in reversed(boxes):
        inner = _braced(text, start)
        if inner is not None and (value := _last_number(inner)) is not None:
            return value, "boxed"
    value = _last_number(text)
    return (value, "last") if value is not None else (None, "")


def numbers_match(a: Fraction, b: Fraction, *, tolerance: float, relative: bool) -> bool:
    if a == b:
        return True
    gap = abs(float(a) - float(b))
    if relative:
        return gap <= tolerance * max(abs(float(a)), abs(float(b)))
    return gap <= tolerance


@register
class FinalNumber(Evaluator):
    """The output's final number equals the reference's (see the module docstring)."""

    type = "final_number"
    params = {
        "tolerance": Param(float, default=1e-6, minimum=0.0, maximum=1e12),
        "relative": Param(bool, default=False),
    }
    needs_reference = True

    def score(self, item: Item) -> Score:
        if item.reference is None:
            return unscored(REFERENCE_HAS_NO_NUMBER)
        expected, _ = extract_number(item.reference)
        if expected is None:
            return unscored(REFERENCE_HAS_NO_NUMBER)
        got, source = extract_number(item.output)
        detail = {"expected": _show(expected), "found": _show(got), "source": source}
        if got is None:
            return scored(False, **detail)
        ok = numbers_match(
            got, expected, tolerance=self.p["tolerance"], relative=self.p["relative"]
        )
        return scored(ok, **detail)


def _show(value: Fraction | None) -> str | None:
    if value is None:
        return None
    if value.denominator == 1:
        return str(value.numerator)
    return f"{value.numerator}/{value.denominator}"
