"""Evaluators over the output's text: exact match, contains, regex (RE2), length bounds and
refusal detection. Pure: no Django."""

from __future__ import annotations

import os
import re
import tempfile
import unicodedata
from functools import lru_cache

from datasets_app.checks.user_regex import re2_error, re2_search

from .registry import Evaluator, Item, Param, Score, register, scored, unscored

NO_REFERENCE = "no_reference"
NEEDS_BOUND = "give min, max or both"
MIN_OVER_MAX = "min is greater than max"
_SPACE = re.compile(r"\s+")


def normalize(text: str, *, case=True, whitespace=True, punctuation=True, strip=True) -> str:
    """NFKC, then optionally case-folded, Unicode punctuation removed, whitespace runs collapsed
    to one space, and the ends stripped.

    >>> normalize("  The answer:  Paris! ")
    'the answer paris'
    """
    text = unicodedata.normalize("NFKC", text)
    # Case folding and dropping punctuation can leave a base letter beside a combining mark it
    # composes with ("C:" + U+0327 -> "c" + U+0327 -> "ç"): normalise again after each, so that
    # normalising twice changes nothing.
    if case:
        text = unicodedata.normalize("NFKC", text.casefold())
    if punctuation:
        text = "".join(c for c in text if not unicodedata.category(c).startswith("P"))
        text = unicodedata.normalize("NFKC", text)
    if whitespace:
        text = _SPACE.sub(" ", text)
    if strip:
        text = text.strip()
    return text


_NORMALISE = {
    "case": Param(bool, default=True, help="ignore case"),
    "whitespace": Param(bool, default=True, help="collapse whitespace runs"),
    "punctuation": Param(bool, default=True, help="ignore punctuation"),
    "strip": Param(bool, default=True, help="ignore leading and trailing whitespace"),
}


def _norm(evaluator: Evaluator, text: str) -> str:
    return normalize(text, **{k: evaluator.p[k] for k in _NORMALISE})


@register
class ExactMatch(Evaluator):
    """The output equals the reference after normalisation."""

    type = "exact_match"
    params = dict(_NORMALISE)
    needs_reference = True

    def score(self, item: Item) -> Score:
        if item.reference is None:
            return unscored(NO_REFERENCE)
        return scored(_norm(self, item.output) == _norm(self, item.reference))


@register
class Contains(Evaluator):
    """The output contains ``value`` (default: the reference), case-insensitive unless asked."""

    type = "contains"
    params = {
        "value": Param(str, default="", help="text to look for (default: the reference)"),
        "case_sensitive": Param(bool, default=False),
    }

    def score(self, item: Item) -> Score:
        needle = self.p["value"] or item.reference
        if not needle:
            return unscored(NO_REFERENCE)
        hay = item.output
        if not self.p["case_sensitive"]:
            needle, hay = needle.casefold(), hay.casefold()
        return scored(needle in hay)


def _pattern_check(value: str, path: str) -> str | None:
    return re2_error(value)


@register
class Regex(Evaluator):
    """The output matches ``pattern`` somewhere (RE2: linear time); ``must_match: false``
    passes when it does not."""

    type = "regex"
    params = {
        "pattern": Param(str, max_length=1000, check=_pattern_check),
        "must_match": Param(bool, default=True),
    }

    def score(self, item: Item) -> Score:
        found = re2_search(self.p["pattern"], item.output)
        return scored(found == self.p["must_match"], matched=found)


@lru_cache(maxsize=1)
def _encoding():
    from datasets_app.tokens.offline import load_encoding

    cache = os.environ.get("TIKTOKEN_CACHE_DIR") or os.path.join(
        tempfile.gettempdir(), "finetunedb-tiktoken"
    )
    return load_encoding("cl100k_base", cache_dir=cache)


def length_of(text: str, unit: str) -> int:
    if unit == "chars":
        return len(text)
    if unit == "words":
        return len(text.split())
    return len(_encoding().encode(text, disallowed_special=()))


@register
class LengthBounds(Evaluator):
    """The output's length in characters, words or tokens (cl100k_base) within [min, max]."""

    type = "length_bounds"
    params = {
        "unit": Param(str, default="chars", choices=("chars", "words", "tokens")),
        "min": Param(int, default=-1, minimum=-1, maximum=10_000_000),
        "max": Param(int, default=-1, minimum=-1, maximum=10_000_000),
    }

    def validate(self):
        low, high = self.p["min"], self.p["max"]
        if low < 0 and high < 0:
            return "min", NEEDS_BOUND
        if 0 <= high < low:
            return "min", MIN_OVER_MAX
        return None

    def score(self, item: Item) -> Score:
        n = length_of(item.output, self.p["unit"])
        low, high = self.p["min"], self.p["max"]
        ok = (low < 0 or n >= low) and (high < 0 or n <= high)
        return scored(ok, length=n, unit=self.p["unit"])


# Openings and phrases of a refusal, normalised (case-folded, punctuation dropped), in the
# languages a small model answers in most.
REFUSAL_PHRASES = (
    # English
    "i cant help with",
    "i cannot help with",
    "i cant assist with",
    "i cannot assist with",
    "i cant provide",
    "i cannot provide",
    "im sorry but i cant",
    "im sorry but i cannot",
    "i am sorry but i cannot",
    "im unable to",
    "i am unable to",
    "i wont be able to",
    "i will not help",
    "as an ai language model i cannot",
    "as an ai i cannot",
    "i must decline",
    "i cant comply",
    "i cannot comply",
    "im not able to help",
    "i am not able to help",
    # Spanish
    "no puedo ayudar",
    "lo siento pero no puedo",
    "no puedo proporcionar",
    "no puedo cumplir",
    # French
    "je ne peux pas",
    "désolé mais je ne peux",
    "je suis désolé mais je ne peux",
    # German
    "ich kann nicht helfen",
    "ich kann ihnen dabei nicht helfen",
    "es tut mir leid aber ich kann",
    "ich kann das nicht",
    # Portuguese
    "não posso ajudar",
    "desculpe mas não posso",
    # Italian
    "non posso aiutarti",
    "mi dispiace ma non posso",
    # Chinese, Japanese
    "我不能",
    "我无法",
    "抱歉我不能",
    "申し訳ありませんが",
    "お手伝いできません",
)


@register
class Refusal(Evaluator):
    """Whether the output refuses (a known refusal phrase appears, after normalisation).
    ``pass_when: not_refused`` (default) passes answers; ``refused`` passes refusals."""

    type = "refusal"
    params = {
        "pass_when": Param(str, default="not_refused", choices=("not_refused", "refused")),
        "extra_phrases": Param(list, default=[], max_length=200),
    }

    def score(self, item: Item) -> Score:
        text = normalize(item.output)
        phrases = (*REFUSAL_PHRASES, *(normalize(p) for p in self.p["extra_phrases"] if p))
        hit = next((p for p in phrases if p and p in text), None)
        refused = hit is not None
        return scored(refused == (self.p["pass_when"] == "refused"), refused=refused, phrase=hit)
