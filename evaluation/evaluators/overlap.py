"""Token overlap with the reference: ROUGE-L (F-measure of the longest common subsequence) and
SQuAD's token F1. Pure: no Django."""

from __future__ import annotations

import re
import string
import unicodedata
from collections import Counter

from .registry import Evaluator, Item, Param, Score, register, unscored

NO_REFERENCE = "no_reference"
_WORD = re.compile(r"\w+")
_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCT = set(string.punctuation)


def rouge_tokens(text: str) -> list[str]:
    """Lower-cased word tokens (Unicode letters and digits), as ROUGE's tokenizer keeps them."""
    return _WORD.findall(unicodedata.normalize("NFKC", text).casefold())


def lcs_length(a: list, b: list) -> int:
    """Length of the longest common subsequence, bit-parallel (Allison–Dix / Crochemore et al.):
    O(len(a) · len(b) / word) with Python integers as bit vectors, so long answers cost little.

    >>> lcs_length("the cat sat on the mat".split(), "the cat on a mat".split())
    4
    """
    if not a or not b:
        return 0
    masks: dict = {}
    for i, token in enumerate(a):
        masks[token] = masks.get(token, 0) | (1 << i)
    full = (1 << len(a)) - 1
    v = full
    for token in b:
        u = v & masks.get(token, 0)
        v = ((v + u) | (v - u)) & full
    return len(a) - v.bit_count()


def rouge_l(output: str, reference: str) -> tuple[float, float, float]:
    """``(precision, recall, f1)`` of ROUGE-L between two texts; two empty texts score 1."""
    out, ref = rouge_tokens(output), rouge_tokens(reference)
    if not out and not ref:
        return 1.0, 1.0, 1.0
    lcs = lcs_length(out, ref)
    if lcs == 0:
        return 0.0, 0.0, 0.0
    precision, recall = lcs / len(out), lcs / len(ref)
    return precision, recall, 2 * precision * recall / (precision + recall)


def squad_tokens(text: str) -> list[str]:
    """SQuAD's answer normalisation: lower case, punctuation and articles removed, split."""
    text = "".join(c for c in text.lower() if c not in _PUNCT)
    return _ARTICLES.sub(" ", text).split()


def token_f1(output: str, reference: str) -> float:
    """SQuAD-style token F1 (bag of tokens); two empty answers score 1, one empty 0."""
    out, ref = squad_tokens(output), squad_tokens(reference)
    if not out or not ref:
        return float(out == ref)
    common = sum((Counter(out) & Counter(ref)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(out), common / len(ref)
    return 2 * precision * recall / (precision + recall)


_THRESHOLD = Param(float, default=0.5, minimum=0.0, maximum=1.0, help="pass at or above")


@register
class RougeL(Evaluator):
    """ROUGE-L F-measure of the output against the reference; passes at ``threshold``."""

    type = "rouge_l"
    params = {"threshold": _THRESHOLD}
    needs_reference = True

    def score(self, item: Item) -> Score:
        if item.reference is None:
            return unscored(NO_REFERENCE)
        precision, recall, f1 = rouge_l(item.output, item.reference)
        detail = {"precision": round(precision, 4), "recall": round(recall, 4)}
        return Score(f1, f1 >= self.p["threshold"], detail)


@register
class TokenF1(Evaluator):
    """SQuAD token F1 of the output against the reference; passes at ``threshold``."""

    type = "token_f1"
    params = {"threshold": _THRESHOLD}
    needs_reference = True

    def score(self, item: Item) -> Score:
        if item.reference is None:
            return unscored(NO_REFERENCE)
        f1 = token_f1(item.output, item.reference)
        return Score(f1, f1 >= self.p["threshold"], {})
