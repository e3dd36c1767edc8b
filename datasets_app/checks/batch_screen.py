"""The content rules over many examples at once, for the report: does any of them fire at all?

:func:`any_text_findings` answers exactly what :func:`~.content.check_texts` would (finding or
not) for each example's texts, cheaply for the common answer "no":

* one RE2 pass (pyarrow compute) over the joined texts of a whole chunk screens the placeholder,
  URL, phone and secret detectors. Each pattern is a detector's own pattern, or a part every match of
  it contains, with look-arounds and word boundaries dropped and trailing repeats cut short, so
  it matches wherever the detector could report. RE2 and Python agree on ASCII (``\\s`` is
  spelled out: RE2's lacks ``\\v`` and ``\\x1c``-``\\x1f``); non-ASCII texts take the exact path;
* :mod:`.text_columns` screens the shape, letter counts, control characters and "@" of every
  ASCII text of the chunk at once;
* the detectors a screen does not rule out then run on the example's texts (non-ASCII ones go
  through :func:`~.content.screen_detectors` first). The tests check the superset claims on
  generated text.
"""

from __future__ import annotations

import re

import pyarrow as pa
import pyarrow.compute as pc

from datasets_app.checks.content import DETECTORS, check_case, screen_detectors
from datasets_app.checks.secrets import (
    ASSIGNMENT_SCREEN,
    BEARER_SCREEN,
    DB_URL_SCREEN,
    FORMAT_NEEDLES,
)
from datasets_app.checks.summary import has_markdown
from datasets_app.checks.text_columns import ascii_text_screens

_WS = r"[\t\n\x0b\x0c\r\x1c-\x1f ]"
# The secret screens run on the text as it is: RE2's (?i) stands in for the lower-casing.
_SECRET_ASSIGNMENT = f"(?i:{ASSIGNMENT_SCREEN})"
RE2_SCREENS = {
    "unfilled_placeholder": "|".join(
        (
            r"\{\{",
            r"\{[a-z_][a-z0-9_]{1,30}\}",
            rf"(?i:<{_WS}?no{_WS}?(?:input|output){_WS}?>)",
            r"(?i:\[(?:insert|your|add|enter|placeholder|fill in|name of))",
        )
    ),
    "contains_url": r"://|www\.",
    "contains_phone": r"\+\d{1,3}[ .-]?(?:\(\d{1,4}\)|\d{1,4})(?:[ .-]\d{2,4}){2}"
    r"|\(\d{3}\)[ .-]?\d{3}[ .-]\d{4}|\d{3}[.-]\d{3}[.-]\d{4}",
    # The formats' fixed needles alone (their long bounded tails multiply RE2's states), the
    # database URL schemes, and secrets.ASSIGNMENT_SCREEN (an AWS secret key is an assignment).
    "contains_secret": "|".join(re.escape(needle) for needle in FORMAT_NEEDLES)
    + "|"
    + DB_URL_SCREEN
    + "|"
    + _SECRET_ASSIGNMENT,
    "possible_secret": f"{_SECRET_ASSIGNMENT}|(?i:{BEARER_SCREEN})",
}
_RE2_ANY = "|".join(f"(?:{pattern})" for pattern in RE2_SCREENS.values())


def re2_screen(blobs: list[str]) -> list[tuple[str, ...]]:
    """Per ASCII blob: the rules of RE2_SCREENS whose detectors may report on it (mostly none).
    Non-ASCII blobs get ``()`` too: they are not screened here."""
    ascii_blobs = [blob if blob.isascii() else "" for blob in blobs]
    out: list[tuple[str, ...]] = [()] * len(blobs)
    if not blobs:
        return out
    hits = pc.match_substring_regex(pa.array(ascii_blobs, type=pa.string()), _RE2_ANY)
    hit_at = [i for i, hit in enumerate(hits.to_pylist()) if hit]
    if hit_at:
        # the few that match anything are matched again, rule by rule
        subset = pa.array([ascii_blobs[i] for i in hit_at], type=pa.string())
        per_rule = [
            (rule, pc.match_substring_regex(subset, pattern).to_pylist())
            for rule, pattern in RE2_SCREENS.items()
        ]
        for j, i in enumerate(hit_at):
            out[i] = tuple(rule for rule, matched in per_rule if matched[j])
    return out


def any_text_findings(text_lists: list[list[str]], settings) -> list[bool]:
    """Per list of texts: whether :func:`~.content.check_texts` would report anything for them,
    whatever their paths and roles."""
    blobs = ["\n".join(texts) for texts in text_lists]
    screened = re2_screen(blobs)
    found = [False] * len(text_lists)
    ascii_at = []
    for i, blob in enumerate(blobs):
        if blob.isascii():
            ascii_at.append(i)
        else:
            found[i] = _exact_finding(text_lists[i], blob, settings)
    screens = ascii_text_screens([text_lists[i] for i in ascii_at], settings)
    for i, screen in zip(ascii_at, screens, strict=True):
        found[i] = _ascii_finding(text_lists[i], screened[i], screen, settings)
    return found


def _ascii_finding(texts: list[str], rules: tuple[str, ...], screen, settings) -> bool:
    if screen.shape_finding:
        return True
    for text in screen.case_candidates:  # rare: code hints decide
        scratch: list = []
        check_case(text, "", settings, scratch)
        if scratch:
            return True
    return any(_reports(DETECTORS[rule], texts) for rule in rules + screen.detector_rules)


def _reports(detector, texts: list[str]) -> bool:
    scratch: list = []
    for text in texts:
        detector(text, "", scratch)
        if scratch:
            return True
    return False


def _exact_finding(texts: list[str], blob: str, settings) -> bool:
    scratch: list = []
    for text in texts:
        if not text or text.isspace() or text[0].isspace() or text[-1].isspace():
            return True
        if len(text) >= settings.uppercase_min_letters:
            check_case(text, "", settings, scratch)
            if scratch:
                return True
    return any(_reports(detector, texts) for detector in screen_detectors(blob))


# summary.has_markdown as one RE2 pattern, exact on ASCII (\d, "." and a multi-line "^" agree),
# but for table rows ("|…|"): their bounded repeat triples the pass, so answers with a "|" are
# asked again in Python.
MARKDOWN_RE2 = r"\*\*|```|(?m:^[ \t]{0,3}(?:#{1,6} |[-*+] |[0-9]{1,3}[.)] |```|> ))"


def markdown_flags(stripped_answers: list[str]) -> list[bool]:
    """:func:`~.summary.has_markdown` of each (right-stripped) answer, in one RE2 pass."""
    if not stripped_answers:
        return []
    ascii_answers = [a if a.isascii() else "" for a in stripped_answers]
    hits = pc.match_substring_regex(pa.array(ascii_answers, type=pa.string()), MARKDOWN_RE2)
    return [
        hit or (("|" in answer or not answer.isascii()) and has_markdown(answer))
        for hit, answer in zip(hits.to_pylist(), stripped_answers, strict=True)
    ]
