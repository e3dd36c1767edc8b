"""Does the final answer look cut off? A pure judgement over one text, for ``looks_truncated``.

Generated data is often cut at a token limit: ``"…Many famou"``, a code block never closed, a
bracket opened in the last sentence and never shut. The rule reads only the answer's end (its
last paragraph, at most TAIL_CHARS) and names one reason:

* ``open_code_fence`` — an odd number of ````` fences: the answer ends inside a code block;
* ``unclosed_bracket`` / ``unclosed_quote`` — the last paragraph opens more (, [ or { than it
  closes, or holds an odd number of double quotes;
* ``mid_sentence`` — it ends on a comma, a colon, a dash, an opening bracket or a word like "the"
  or "and" that cannot end a sentence;
* ``mid_word`` — it ends on letters with no closing punctuation, in prose whose author ends
  sentences with punctuation elsewhere.

Answers that legitimately end without punctuation are not judged: shorter than
MIN_JUDGE_CHARS ("Yes", "Paris"; an open code block is judged at any length), ending in a closed code block, a list item, a table row, a
heading, a URL, a number, "}" or ";" (code), an emoji or another symbol, a short last line (a sign-off, a title),
code, verse (most lines of the last paragraph end without punctuation), or text that never ends
a sentence with punctuation at all (keyword lists, fragments).
"""

from __future__ import annotations

import re

MIN_JUDGE_CHARS = 80
TAIL_CHARS = 400
MAX_QUOTED_PARAGRAPH = 2000  # quotes are paired over the whole last paragraph, when it is short
MIN_LAST_LINE_WORDS = 4

REASONS = {
    "open_code_fence": "a ``` code block is never closed",
    "unclosed_bracket": "a bracket opened at the end is never closed",
    "unclosed_quote": "a quotation opened at the end is never closed",
    "mid_sentence": "it stops mid-sentence",
    "mid_word": "it stops mid-word, with no closing punctuation",
}

_TERMINAL = frozenset(".!?。！？…")
_CLOSERS = frozenset("\"')]}*_»”’>`")
_MID_SENTENCE_CHARS = frozenset(",:-–—(/&+=")
# Words that cannot end an English sentence.
_FUNCTION_WORDS = frozenset(
    "a an the and or but nor of to in on at by for from with into onto as that which who whose "
    "whom than is are was were be been being has have had will would can could should may might "
    "must shall do does did very such their its our your my his her these those this".split()
)
# Generators indent closing fences freely: any indentation counts.
FENCE = re.compile(r"(?m)^[ \t]{0,16}(?:```|~~~)")
_LIST_LINE = re.compile(r"[ \t]{0,8}(?:[-*+•] |\d{1,3}[.)] |[a-zA-Z][.)] |#{1,6} |\||> )")
# A sentence end: a letter (or closing quote/bracket) then terminal punctuation and a space.
_SENTENCE_END = re.compile(r"[^\W\d_\"')\]»”’][.!?。！？…][\"')\]»”’]{0,2}\s")
_CODE_LINE = re.compile(
    r"^(?:[ \t]{2,}|\t)|[;{}=|$]|\bdef |\breturn\b|\bimport |=>|\(\)|</?\w+>| --?[a-z]"
)
_INLINE_ITEMS = re.compile(r"(?:^|\s)\d{1,3}[.)] ")  # "1. Werewolf 2. Who Am I? 3. Uno"
_INCHES = re.compile(r'[0-9]"')
# An attribution after a quotation: "…" -C.S. Lewis, ― Roy T. Bennett
_ATTRIBUTION = re.compile(r"[\"”'’]\s{0,3}[-–—―~]\s{0,2}[^\n\"”]{1,80}$")
_WORD = re.compile(r"[^\W\d_]{1,100}$")


def truncation_reason(text: str) -> tuple[str, str] | None:
    """``(reason, last words)`` when ``text`` (a final answer) looks cut off, else None.

    >>> truncation_reason("Painters of the Italian Renaissance worked for rich patrons and for "
    ...                   "the church. Many famou")
    ('mid_word', '…urch. Many famou')
    >>> truncation_reason("Use this:\\n```python\\nprint('hi')\\n```") is None
    True
    """
    if text[-1:] in _TERMINAL and "`" not in text and "~" not in text:
        return None  # the common case, decided without a copy
    stripped = text.rstrip()
    # an open code block is judged at any length ("`" first: a one-byte scan is cheapest)
    if fence_count(stripped) % 2:
        return "open_code_fence", _tail_words(stripped)
    if len(stripped) < MIN_JUDGE_CHARS:
        return None
    last = stripped[-1]
    if last in _TERMINAL or stripped.endswith(("```", "~~~")):
        return None
    if last.isdigit() or last in "};":
        return None  # a number; a closed block or a statement (a cut rarely lands on either)
    cased_letter = last.isalpha() and last.lower() != last.upper()
    if not (cased_letter or last in _MID_SENTENCE_CHARS or last in _CLOSERS):
        return None  # emoji, symbols, caseless scripts: not judged
    tail_words = _tail_words(stripped)
    last_line = stripped[stripped.rfind("\n") + 1 :]
    last_token = last_line.rsplit(None, 1)[-1]
    if "://" in last_token or last_token.startswith(("www.", "#", "@")):
        return None  # a URL, a hashtag or mention
    paragraph_start = stripped.rfind("\n\n")
    paragraph = stripped[paragraph_start + 2 :] if paragraph_start >= 0 else stripped
    tail = paragraph[-TAIL_CHARS:]
    if _unclosed_bracket(tail):
        return "unclosed_bracket", tail_words
    if last in _CLOSERS:
        return None  # a closing bracket, quote or emphasis ends it
    code = (
        stripped.startswith("#!")
        or _CODE_LINE.search(last_line)
        or any(_CODE_LINE.search(line) for line in tail.split("\n")[-3:])
    )
    if code:
        return None
    if len(paragraph) <= MAX_QUOTED_PARAGRAPH and _unpaired_quote(paragraph):
        return "unclosed_quote", tail_words
    # a list item may end bare, unless it is prose itself (it ends a sentence inside)
    bare_item = (_LIST_LINE.match(last_line) and not _SENTENCE_END.search(last_line)) or len(
        _INLINE_ITEMS.findall(last_line)
    ) >= 3
    if bare_item or _ATTRIBUTION.search(tail):
        return None
    if last == "," and stripped.endswith("\n\n" + last_line):
        return None  # a closing salutation ("Looking forward to seeing you,")
    if not _judged_prose(stripped, tail, last_line.split()):
        return None
    if last in _MID_SENTENCE_CHARS:
        return "mid_sentence", tail_words
    word = _WORD.search(last_token)
    if word and word.group().lower() in _FUNCTION_WORDS:
        return "mid_sentence", tail_words
    return "mid_word", tail_words


def fence_count(text: str) -> int:
    """Lines that start (after up to 16 spaces or tabs) with ``` or ~~~: what
    ``len(FENCE.findall(text))`` counts, found with str.find (a multi-line "^" pattern is tried
    at every position)."""
    count = 0
    for marker in ("```", "~~~"):
        if marker[0] not in text:
            continue
        at = text.find(marker)
        while at >= 0:
            line_start = text.rfind("\n", 0, at) + 1
            if at - line_start <= 16 and not text[line_start:at].strip(" \t"):
                count += 1
            at = text.find(marker, at + 3)
    return count


def _tail_words(stripped: str) -> str:
    return "…" + stripped[-16:].lstrip() if len(stripped) > 16 else stripped


def _unclosed_bracket(tail: str) -> bool:
    """More (, [ or { than closing ones in the tail; a sad emoticon ":(" opens nothing."""
    sad = tail.count(":(") + tail.count(";(") if "(" in tail else 0
    return (
        tail.count("(") - sad > tail.count(")")
        or tail.count("[") > tail.count("]")
        or tail.count("{") > tail.count("}")
    )


def _unpaired_quote(paragraph: str) -> bool:
    """An odd number of straight double quotes (unless one follows a digit: 0.96" is inches),
    or more opening than closing curly ones."""
    if paragraph.count('"') % 2 and not _INCHES.search(paragraph):
        return True
    return paragraph.count("“") > paragraph.count("”")


def _judged_prose(text: str, tail: str, last_line_words: list[str]) -> bool:
    """Prose whose end can be judged: a last line of several words, not verse, in a text that
    ends some sentence with punctuation."""
    if len(last_line_words) < MIN_LAST_LINE_WORDS:
        return False
    lines = [line for line in tail.split("\n") if line.strip()]
    if len(lines) >= 2:
        open_ended = sum(1 for line in lines[:-1] if line.rstrip()[-1] not in _TERMINAL)
        if open_ended * 2 >= len(lines) - 1:
            return False  # verse, an address, a list without markers
    return _SENTENCE_END.search(text) is not None


def truncation_message(reason: str, tail_words: str) -> str:
    return f"The answer looks cut off: {REASONS[reason]} ({tail_words!r})."
